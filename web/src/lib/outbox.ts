// Messages waiting to be sent, and edits, deletes and reactions waiting to be done, kept in
// IndexedDB so they survive a reload or a browser restart. Each keeps its client_id for life:
// every retry (REST or gateway) of a send reuses it, and the server answers a retry with the
// original message, so a message is delivered exactly once (an edit, a delete or a reaction
// done twice leaves the same state). Per room, one item is in flight at a time and items go in
// the order they were written: an edit made offline after a send goes after it.
import type { Media, Message } from './types';
import { tx } from './idb';

/** What an item does: a new message (the default, for items stored before there were others). */
export type OutboxKind = 'send' | 'edit' | 'delete' | 'react';

export interface OutboxItem {
  client_id: string;
  room_id: string;
  /** Absent: a send. */
  kind?: OutboxKind;
  /** The message an edit, delete or reaction is for. */
  message_id?: string;
  /** Reactions: the emoji, and whether it is added (else removed). */
  emoji?: string;
  add?: boolean;
  /** The message's text (a send) or its new text (an edit). */
  body: string;
  reply_to?: string | null;
  /** Already uploaded (an upload needs the network; the message itself can wait). */
  attachments?: Media[];
  created_at: string;
  /** Monotonic order of writing (ties in created_at are possible). */
  order: number;
  state: 'queued' | 'failed';
  error?: string;
}

export interface OutboxStorage {
  all(): Promise<OutboxItem[]>;
  put(item: OutboxItem): Promise<void>;
  delete(clientId: string): Promise<void>;
}

export class MemoryOutboxStorage implements OutboxStorage {
  items = new Map<string, OutboxItem>();
  async all() {
    return [...this.items.values()].map((i) => ({ ...i }));
  }
  async put(item: OutboxItem) {
    this.items.set(item.client_id, { ...item });
  }
  async delete(id: string) {
    this.items.delete(id);
  }
}

export class IdbOutboxStorage implements OutboxStorage {
  async all(): Promise<OutboxItem[]> {
    return ((await tx<OutboxItem[]>('outbox', 'readonly', (s) => s.getAll())) ?? []) as OutboxItem[];
  }
  async put(item: OutboxItem): Promise<void> {
    await tx('outbox', 'readwrite', (s) => s.put(item));
  }
  async delete(clientId: string): Promise<void> {
    await tx('outbox', 'readwrite', (s) => s.delete(clientId));
  }
}

/** A send error that will not succeed by retrying (refused by the server). */
export class PermanentSendError extends Error {}

/**
 * A send the server asked to make later (slow mode): it leaves the queue and its text goes back
 * to the person (onReturned), who sends it again when allowed.
 */
export class ReturnedSendError extends Error {}

/** An edit, delete or reaction to queue. */
export type OutboxAction =
  | { kind: 'edit'; message_id: string; body: string }
  | { kind: 'delete'; message_id: string }
  | { kind: 'react'; message_id: string; emoji: string; add: boolean };

export const kindOf = (i: OutboxItem): OutboxKind => i.kind ?? 'send';

export interface OutboxHooks {
  /** Do the item: a send resolves the message; the other kinds resolve null. */
  send(item: OutboxItem): Promise<Message | null>;
  /** Whether it is worth trying now (connected or at least online). */
  canSend?(): boolean;
  onSent?(item: OutboxItem, m: Message | null): void;
  /** A send given back (ReturnedSendError): it is no longer queued. */
  onReturned?(item: OutboxItem): void;
  /** Something changed: in one room, or (no argument) possibly in all of them. */
  onChange?(roomId?: string): void;
}

export function newClientId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c?.randomUUID) return c.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

export class Outbox {
  private items = new Map<string, OutboxItem>();
  private busy = new Map<string, Promise<void>>();
  private order = 0;
  private loaded: Promise<void> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly storage: OutboxStorage,
    private readonly hooks: OutboxHooks,
  ) {}

  load(): Promise<void> {
    if (!this.loaded) {
      this.loaded = this.storage.all().then((all) => {
        for (const i of all) {
          this.items.set(i.client_id, i);
          this.order = Math.max(this.order, i.order);
        }
        this.hooks.onChange?.();
      });
    }
    return this.loaded;
  }

  /** Items for a room (or all), in writing order. */
  list(roomId?: string): OutboxItem[] {
    return [...this.items.values()]
      .filter((i) => roomId === undefined || i.room_id === roomId)
      .sort((a, b) => a.order - b.order);
  }

  get waiting(): number {
    return this.items.size;
  }

  isSending(clientId: string): boolean {
    const i = this.items.get(clientId);
    return !!i && i.state === 'queued';
  }

  async enqueue(roomId: string, body: string, replyTo?: string | null, attachments?: Media[]): Promise<OutboxItem> {
    await this.load();
    const item: OutboxItem = {
      client_id: newClientId(),
      room_id: roomId,
      body,
      reply_to: replyTo ?? null,
      ...(attachments?.length ? { attachments } : {}),
      created_at: new Date().toISOString(),
      order: Math.max(++this.order, Date.now()),
      state: 'queued',
    };
    this.order = item.order;
    // Persist before the first attempt: a crash after this point still sends it later.
    await this.storage.put(item);
    this.items.set(item.client_id, item);
    this.hooks.onChange?.(roomId);
    void this.flush();
    return item;
  }

  /** Queue an edit, delete or reaction; it is done after everything written before it in the room. */
  async enqueueAction(roomId: string, action: OutboxAction): Promise<OutboxItem> {
    await this.load();
    const item: OutboxItem = {
      client_id: newClientId(),
      room_id: roomId,
      body: action.kind === 'edit' ? action.body : '',
      ...action,
      created_at: new Date().toISOString(),
      order: Math.max(++this.order, Date.now()),
      state: 'queued',
    };
    this.order = item.order;
    await this.storage.put(item);
    this.items.set(item.client_id, item);
    this.hooks.onChange?.(roomId);
    void this.flush();
    return item;
  }

  async retry(clientId: string): Promise<void> {
    const i = this.items.get(clientId);
    if (!i) return;
    i.state = 'queued';
    i.error = undefined;
    await this.storage.put(i);
    this.hooks.onChange?.(i.room_id);
    void this.flush();
  }

  async discard(clientId: string): Promise<void> {
    const item = this.items.get(clientId);
    if (this.busy.size && item?.state === 'queued') return;
    this.items.delete(clientId);
    await this.storage.delete(clientId);
    this.hooks.onChange?.(item?.room_id);
  }

  /** Send everything queued: rooms in parallel, each room strictly in order. */
  async flush(): Promise<void> {
    await this.load();
    const rooms = new Set(
      this.list()
        .filter((i) => i.state === 'queued')
        .map((i) => i.room_id),
    );
    await Promise.all([...rooms].map((r) => this.flushRoom(r)));
  }

  /** One runner per room; it re-reads the queue after each send, so later items join it. */
  private flushRoom(roomId: string): Promise<void> {
    const running = this.busy.get(roomId);
    if (running) return running;
    const p = this.runRoom(roomId).finally(() => this.busy.delete(roomId));
    this.busy.set(roomId, p);
    return p;
  }

  private async runRoom(roomId: string): Promise<void> {
    for (;;) {
      if (this.hooks.canSend && !this.hooks.canSend()) return;
      const next = this.list(roomId).find((i) => i.state === 'queued');
      if (!next) return;
      try {
        const m = await this.hooks.send(next);
        this.items.delete(next.client_id);
        await this.storage.delete(next.client_id);
        this.hooks.onSent?.(next, m);
        this.hooks.onChange?.(roomId);
      } catch (e) {
        if (e instanceof ReturnedSendError) {
          this.items.delete(next.client_id);
          await this.storage.delete(next.client_id);
          this.hooks.onReturned?.(next);
          this.hooks.onChange?.(roomId);
          continue;
        }
        if (e instanceof PermanentSendError) {
          next.state = 'failed';
          next.error = e.message;
          await this.storage.put(next);
          this.hooks.onChange?.(roomId);
          continue;
        }
        // Transient: keep it (and everything after it) queued; try again soon.
        this.scheduleRetry();
        return;
      }
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, 3_000);
  }

  dispose(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
