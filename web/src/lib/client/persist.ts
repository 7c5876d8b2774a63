// The offline cache: rooms and the recent messages of each loaded timeline, restored at start
// (instant and offline start) and saved shortly after changes.
import type { CacheSnapshot, CacheStore } from '../cache';
import type { Message } from '../types';
import type { Client } from './index';

export class Persistence {
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly c: Client,
    private readonly cache: CacheStore,
  ) {}

  load(): Promise<CacheSnapshot | undefined> {
    return this.cache.load().catch(() => undefined);
  }

  clear(): Promise<void> {
    return this.cache.clear().catch(() => {});
  }

  /** Put a cached snapshot (of the same user) back into the view models. */
  restore(s: CacheSnapshot): void {
    const c = this.c;
    c.rooms.store.setAll(s.rooms);
    for (const r of s.rooms) if (r.dm_peer) c.members.rememberUser(r.dm_peer);
    for (const [id, t] of Object.entries(s.timelines)) {
      c.timelines.get(id).addPage(t.messages, true);
      c.sync.setHave(id, t.have);
    }
  }

  /** Save soon (changes come in bursts: one write for the burst). */
  scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.saveNow();
    }, 800);
  }

  async saveNow(): Promise<void> {
    const c = this.c;
    const user = c.session.me();
    if (!user) return;
    const timelines: Record<string, { messages: Message[]; have: number }> = {};
    for (const [id, t] of c.timelines.entries()) {
      const have = c.sync.have.get(id);
      // A stretch of older history (a jump far back) is not the room's latest: not cached.
      if (!t.loaded || t.hasMoreAfter || have === undefined || c.sync.isCatchingUp(id)) continue;
      timelines[id] = { messages: t.recent(50), have };
    }
    await this.cache.save({ user, rooms: c.rooms.store.snapshot(), timelines }).catch(() => {});
  }
}
