// Resume without loss (docs/protocol.md "Resume without loss"): per-room `have` seq, events
// applied strictly in order, gaps filled from /events, live events buffered during catch-up.
import type { EventsPage, RoomEvent } from './types';

export interface SyncDeps {
  fetchEvents(roomId: string, after: number): Promise<EventsPage>;
  /** Apply one event; called exactly once per (room, seq), in seq order. */
  apply(ev: RoomEvent): void;
  /** The room is gone from `ready` (left, kicked, deleted). */
  dropRoom?(roomId: string): void;
  /**
   * A room we hold nothing for, or one so far behind that replaying is wasteful: the caller
   * reloads its latest page; sync continues from `lastSeq`.
   */
  resetRoom?(roomId: string, lastSeq: number): void;
  /** Catch-up failed (offline…); it is retried on the next ready. */
  onError?(roomId: string, e: unknown): void;
}

export class Sync {
  readonly have = new Map<string, number>();
  private buffers = new Map<string, RoomEvent[]>();
  private catching = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: SyncDeps,
    private readonly resetThreshold = 1000,
  ) {}

  /** Seed from the cache (the seq that the cached state reflects). */
  setHave(roomId: string, seq: number): void {
    this.have.set(roomId, seq);
  }

  isCatchingUp(roomId: string): boolean {
    return this.catching.has(roomId);
  }

  /** Step 1: on every ready. Resolves once every room has caught up (or failed to). */
  async onReady(rooms: { id: string; last_seq: number }[]): Promise<void> {
    const present = new Set(rooms.map((r) => r.id));
    for (const id of [...this.have.keys()]) {
      if (!present.has(id)) {
        this.have.delete(id);
        this.buffers.delete(id);
        this.deps.dropRoom?.(id);
      }
    }
    const work: Promise<void>[] = [];
    for (const r of rooms) {
      const have = this.have.get(r.id);
      if (have === undefined || r.last_seq - have > this.resetThreshold) {
        this.have.set(r.id, r.last_seq);
        this.deps.resetRoom?.(r.id, r.last_seq);
      } else if (r.last_seq > have) {
        work.push(this.catchUp(r.id));
      }
    }
    await Promise.all(work);
  }

  /** Step 2: on every live event. */
  onEvent(ev: RoomEvent): void {
    const id = ev.room_id;
    if (this.catching.has(id)) {
      // Step 3: buffer while a fetch is in flight.
      let b = this.buffers.get(id);
      if (!b) {
        b = [];
        this.buffers.set(id, b);
      }
      b.push(ev);
      return;
    }
    const have = this.have.get(id);
    if (have === undefined) {
      // A room we did not know (just joined): start from here; the caller loads its page.
      this.have.set(id, ev.seq);
      this.deps.resetRoom?.(id, ev.seq);
      this.deps.apply(ev);
      return;
    }
    if (ev.seq <= have) return;
    if (ev.seq === have + 1) {
      this.have.set(id, ev.seq);
      this.deps.apply(ev);
      return;
    }
    void this.catchUp(id);
  }

  /** Fetch /events?after=have until has_more is false, then drain the buffer. */
  catchUp(roomId: string): Promise<void> {
    const running = this.catching.get(roomId);
    if (running) return running;
    const p = (async () => {
      try {
        for (;;) {
          const after = this.have.get(roomId) ?? 0;
          const page = await this.deps.fetchEvents(roomId, after);
          for (const ev of page.events) this.applyInOrder(ev);
          if (!page.has_more || page.events.length === 0) break;
        }
      } catch (e) {
        this.deps.onError?.(roomId, e);
      } finally {
        this.catching.delete(roomId);
      }
      const buffered = this.buffers.get(roomId) ?? [];
      this.buffers.delete(roomId);
      buffered.sort((a, b) => a.seq - b.seq);
      for (const ev of buffered) this.onEvent(ev);
    })();
    this.catching.set(roomId, p);
    return p;
  }

  private applyInOrder(ev: RoomEvent): void {
    const have = this.have.get(ev.room_id) ?? 0;
    if (ev.seq <= have) return;
    this.have.set(ev.room_id, ev.seq);
    this.deps.apply(ev);
  }

  forget(roomId: string): void {
    this.have.delete(roomId);
    this.buffers.delete(roomId);
  }
}
