// Typing indicators: who is typing in which room (a store keyed by room, so a typing change
// updates that room's typing line only), and the throttled signal this client sends.
import { createStore, produce } from 'solid-js/store';
import type { Client } from './index';

/** How long a "typing" signal holds without a repeat. */
const TYPING_TTL_MS = 6_000;

export class Typing {
  /** Per room: user id → when their typing signal expires (ms). */
  private readonly state: Record<string, Record<string, number>>;
  private readonly set: ReturnType<typeof createStore<Record<string, Record<string, number>>>>[1];
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly c: Client) {
    [this.state, this.set] = createStore<Record<string, Record<string, number>>>({});
  }

  /** Throttled typing signal (every ~4 s while typing; false when stopping). */
  send(roomId: string, active: boolean): void {
    const gw = this.c.gateway;
    if (!gw.connected) return;
    const last = this.lastSent.get(roomId) ?? 0;
    const now = Date.now();
    if (active && now - last < 4_000) return;
    if (!active && last === 0) return;
    this.lastSent.set(roomId, active ? now : 0);
    gw.request('typing', { room_id: roomId, active }).catch(() => {});
  }

  /** A typing frame from the gateway (or a message from that user, which ends their typing). */
  received(roomId: string, userId: string, active: boolean): void {
    if (userId === this.c.session.me()?.id) return;
    if (active) {
      const until = Date.now() + TYPING_TTL_MS;
      this.set(roomId, (prev) => ({ ...prev, [userId]: until }));
      setTimeout(() => {
        if ((this.state[roomId]?.[userId] ?? 0) <= Date.now()) this.drop(roomId, userId);
      }, TYPING_TTL_MS + 100);
    } else this.drop(roomId, userId);
  }

  private drop(roomId: string, userId: string): void {
    if (this.state[roomId]?.[userId] === undefined) return;
    this.set(
      produce((s) => {
        delete s[roomId][userId];
      }),
    );
  }

  /** The names of the people typing in a room now. */
  names(roomId: string): string[] {
    const m = this.state[roomId];
    if (!m) return [];
    const now = Date.now();
    return Object.entries(m)
      .filter(([, exp]) => exp > now)
      .map(([u]) => this.c.members.displayName(u));
  }
}
