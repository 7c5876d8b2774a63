// One WebSocket to /api/v1/ws (docs/protocol.md): auth first frame, requests with ids,
// reconnect with exponential backoff and jitter, re-auth before the token expires.
import type { InvitationFrame, PresenceFrame, PublicUser, Ready, ReceiptFrame, RoomEvent, TypingFrame } from './types';

export type ConnState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export class GatewayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  get transient(): boolean {
    return (
      this.code === 'rate_limited' ||
      this.code === 'not_connected' ||
      this.code === 'timeout' ||
      this.code === 'unavailable'
    );
  }
}

export interface GatewayHandlers {
  onReady(d: Ready): void;
  onEvent(d: RoomEvent): void;
  onTyping?(d: TypingFrame): void;
  onReceipt?(d: ReceiptFrame): void;
  onPresence?(d: PresenceFrame): void;
  /** The assistant's streamed reply (`ai.delta`, docs/protocol.md). */
  onAiDelta?(d: unknown): void;
  /** An add to a group became an invitation to me (`invitation`). */
  onInvitation?(d: InvitationFrame): void;
  /** Someone who shares a room with me (or I, on another device) changed name or avatar. */
  onUserUpdated?(d: PublicUser): void;
  onState?(s: ConnState): void;
  /** 4003: the session ended. */
  onLoggedOut?(): void;
}

export interface GatewayOptions {
  url: string;
  /** A token valid for at least the given time (refreshing if needed). */
  getToken(minValidityMs: number): Promise<string>;
  /** Unix ms at which the current token expires. */
  tokenExpiresAt(): number;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  now?: () => number;
}

interface Pending {
  resolve(d: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Backoff: 0.5 s doubling to 30 s, ± 50 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + random()));
}

export class Gateway {
  state: ConnState = 'idle';
  private ws: WebSocket | null = null;
  private attempt = 0;
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reauthTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private stopped = true;
  private readonly WS: typeof WebSocket;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    private readonly opts: GatewayOptions,
    private readonly h: GatewayHandlers,
  ) {
    this.WS = opts.WebSocketImpl ?? WebSocket;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.failPending('not_connected');
    this.setState('stopped');
  }

  /** Reconnect now (e.g. the browser came back online), skipping the backoff wait. */
  nudge(): void {
    if (this.stopped || this.state === 'connected' || this.state === 'connecting') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.connect();
  }

  /** Test hook / recovery: drop the socket as if the network failed; it reconnects and resumes. */
  drop(): void {
    this.ws?.close(4000);
  }

  request<T = unknown>(op: string, d: unknown, timeoutMs = 15_000): Promise<T> {
    const ws = this.ws;
    if (!ws || this.state !== 'connected') return Promise.reject(new GatewayError('not_connected', 'not connected'));
    return this.rawRequest<T>(ws, op, d, timeoutMs);
  }

  private rawRequest<T>(ws: WebSocket, op: string, d: unknown, timeoutMs: number): Promise<T> {
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError('timeout', `${op} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      try {
        ws.send(JSON.stringify({ op, id, d }));
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new GatewayError('not_connected', 'send failed'));
      }
    });
  }

  private setState(s: ConnState): void {
    if (this.state === s) return;
    this.state = s;
    this.h.onState?.(s);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.reauthTimer) clearTimeout(this.reauthTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.reconnectTimer = this.reauthTimer = this.heartbeat = null;
  }

  private failPending(code: string): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new GatewayError(code, 'connection lost'));
    }
    this.pending.clear();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setState(this.attempt === 0 && this.state === 'idle' ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await this.opts.getToken(60_000);
    } catch (e) {
      if ((e as { status?: number }).status === 401) {
        this.h.onLoggedOut?.();
        this.stop();
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new this.WS(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let ready = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ op: 'auth', id: 'auth', d: { token } }));
    };
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      let f: { op: string; id?: string; d?: unknown };
      try {
        f = JSON.parse(String(m.data));
      } catch {
        return;
      }
      switch (f.op) {
        case 'ready':
          ready = true;
          this.attempt = 0;
          this.setState('connected');
          this.scheduleReauth();
          if (this.heartbeat) clearInterval(this.heartbeat);
          this.heartbeat = setInterval(
            () => {
              this.request('ping', {}).catch(() => {});
            },
            Math.max(5_000, Number((f.d as Partial<Ready> | undefined)?.heartbeat_interval_ms) || 30_000),
          );
          this.h.onReady(f.d as Ready);
          return;
        case 'ack':
        case 'error': {
          const p = f.id ? this.pending.get(f.id) : undefined;
          if (!p) return;
          this.pending.delete(f.id!);
          clearTimeout(p.timer);
          if (f.op === 'ack') p.resolve(f.d);
          else {
            const e = (f.d ?? {}) as { code?: string; message?: string; retry_after_ms?: number };
            p.reject(new GatewayError(e.code ?? 'error', e.message ?? 'error', e.retry_after_ms));
          }
          return;
        }
        case 'event':
          this.h.onEvent(f.d as RoomEvent);
          return;
        case 'typing':
          this.h.onTyping?.(f.d as TypingFrame);
          return;
        case 'receipt':
          this.h.onReceipt?.(f.d as ReceiptFrame);
          return;
        case 'presence':
          this.h.onPresence?.(f.d as PresenceFrame);
          return;
        case 'ai.delta':
          this.h.onAiDelta?.(f.d);
          return;
        case 'invitation':
          this.h.onInvitation?.(f.d as InvitationFrame);
          return;
        case 'user.updated':
          this.h.onUserUpdated?.(f.d as PublicUser);
          return;
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.heartbeat) clearInterval(this.heartbeat);
      if (this.reauthTimer) clearTimeout(this.reauthTimer);
      this.heartbeat = this.reauthTimer = null;
      this.failPending('not_connected');
      if (this.stopped) return;
      if (ev.code === 4003) {
        this.h.onLoggedOut?.();
        this.stop();
        return;
      }
      if (!ready && ev.code !== 4004 && ev.code !== 4002) this.attempt++;
      // 4002/4004 (token refused/expired): next connect fetches a fresh token.
      // 1001, 4001, 4009, 4011 and network drops: reconnect and resume.
      // 4008 (abuse) and 4010 (too many sockets): back off harder.
      if (ev.code === 4008 || ev.code === 4010) this.attempt = Math.max(this.attempt, 6);
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setState('reconnecting');
    const delay = this.attempt === 0 ? 200 : backoffMs(this.attempt - 1, this.random);
    this.attempt++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  /** Send a fresh token on the open socket a minute before the current one expires. */
  private scheduleReauth(): void {
    if (this.reauthTimer) clearTimeout(this.reauthTimer);
    const delay = Math.max(5_000, this.opts.tokenExpiresAt() - this.now() - 60_000);
    this.reauthTimer = setTimeout(async () => {
      this.reauthTimer = null;
      const ws = this.ws;
      if (!ws || this.state !== 'connected') return;
      try {
        const token = await this.opts.getToken(90_000);
        await this.rawRequest(ws, 'auth', { token }, 15_000);
        this.scheduleReauth();
      } catch {
        // The server closes with 4004 on expiry; onclose reconnects with a fresh token.
        this.reauthTimer = setTimeout(() => this.scheduleReauth(), 10_000);
      }
    }, delay);
  }
}
