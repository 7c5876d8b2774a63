// Timelines: one reactive Timeline (lib/timeline.ts) per room, the pages loaded into it, and the
// rows a room shows (its messages plus what the outbox still holds for it). An incoming message
// re-renders the list of its own room only; an outbox change, the room it belongs to.
import { batch } from 'solid-js';
import { ApiError } from '../api';
import { Versions } from '../reactive';
import { Timeline, type TimelineItem } from '../timeline';
import type { EventsPage, Message, MessagePage } from '../types';
import { isSystemEvent } from '../systemLines';
import type { Client } from './index';

export class Timelines {
  private readonly map = new Map<string, Timeline>();
  /** Outbox changes, per room ('*' for the total shown in the banner). */
  private readonly sends = new Versions();

  constructor(private readonly c: Client) {}

  /** The room's timeline (made on first use). */
  get(roomId: string): Timeline {
    let t = this.map.get(roomId);
    if (!t) {
      t = new Timeline(roomId, () => this.c.session.me()?.id ?? null);
      this.map.set(roomId, t);
    }
    return t;
  }

  /** The room's timeline if the client holds one. */
  peek(roomId: string): Timeline | undefined {
    return this.map.get(roomId);
  }

  has(roomId: string): boolean {
    return this.map.has(roomId);
  }

  entries(): IterableIterator<[string, Timeline]> {
    return this.map.entries();
  }

  drop(roomId: string): void {
    this.map.get(roomId)?.clear();
    this.map.delete(roomId);
  }

  clear(): void {
    for (const id of [...this.map.keys()]) this.drop(id);
  }

  /** The outbox changed (in one room, or anywhere when `roomId` is undefined). */
  outboxChanged(roomId?: string): void {
    batch(() => {
      if (roomId === undefined) this.sends.bumpAll();
      else this.sends.bump(roomId);
      this.sends.bump('*');
    });
  }

  /** Messages waiting in the outbox (tracked). */
  waiting(): number {
    this.sends.track('*');
    return this.c.outbox.waiting;
  }

  /** The rows of a room: its messages, then its unsent ones (tracked per room). */
  items(roomId: string): TimelineItem[] {
    this.sends.track(roomId);
    // Membership lines in groups; a DM's two members need none.
    const group = this.c.rooms.get(roomId)?.kind !== 'dm';
    return this.get(roomId).items(this.c.outbox.list(roomId), group);
  }

  /**
   * The membership and room changes within history just loaded (messages come from /messages,
   * which has none): one /events request from the page's first seq, keeping those before
   * `before` (the page loaded earlier starts there). In the background; a failure only leaves
   * the lines out. From the start of the room when nothing older exists. `after` overrides where
   * the events start (a page of newer messages: from the newest held before it).
   */
  private backfill(roomId: string, oldest: number | undefined, before: number | undefined, after?: number): void {
    const t = this.get(roomId);
    if (this.c.rooms.get(roomId)?.kind === 'dm') return;
    const from = after ?? (t.hasMoreBefore && oldest !== undefined ? oldest - 1 : 0);
    if (before !== undefined && from + 1 >= before) return;
    this.c.api
      .get<EventsPage>(`/rooms/${roomId}/events?after=${from}&limit=1000`)
      .then((page) => {
        if (this.map.get(roomId) !== t) return;
        for (const ev of page.events) {
          if (before !== undefined && ev.seq >= before) break;
          if (isSystemEvent(ev)) t.addSystem(ev);
        }
      })
      .catch(() => {});
  }

  async loadLatest(roomId: string): Promise<void> {
    const c = this.c;
    try {
      const page = await c.api.get<MessagePage>(`/rooms/${roomId}/messages?limit=50`);
      const t = this.get(roomId);
      // A jump far back landed first: the latest page would leave a gap after its stretch.
      if (t.hasMoreAfter) return;
      t.addPage(page.messages, page.has_more);
      this.backfill(roomId, t.oldestSeq(), undefined);
      const room = c.rooms.get(roomId);
      const top = page.messages.reduce((a, m) => Math.max(a, m.seq), 0);
      if (!c.sync.have.has(roomId)) c.sync.setHave(roomId, Math.max(room?.last_seq ?? 0, top));
      c.persist.scheduleSave();
    } catch {
      /* offline: the cache (if any) stays */
    }
  }

  /** Load the page before the oldest message held. Resolves the number of messages added. */
  async loadOlder(roomId: string): Promise<number> {
    const t = this.get(roomId);
    const oldest = t.oldestSeq();
    if (!t.hasMoreBefore || oldest === undefined) return 0;
    const page = await this.c.api.get<MessagePage>(`/rooms/${roomId}/messages?before=${oldest}&limit=50`);
    t.addPage(page.messages, page.has_more);
    this.backfill(roomId, t.oldestSeq(), oldest);
    return page.messages.length;
  }

  /**
   * Load the stretch of history around a seq in one request (GET /messages?around=), replacing
   * what is held unless that seq is held already. Newer pages follow with `loadNewer` until the
   * live end.
   */
  async loadAround(roomId: string, seq: number, limit = 100): Promise<void> {
    const page = await this.c.api.get<MessagePage>(`/rooms/${roomId}/messages?around=${seq}&limit=${limit}`);
    const t = this.get(roomId);
    t.setAround(page.messages, page.has_more, page.has_newer ?? false);
    const newest = t.newestSeq();
    this.backfill(roomId, t.oldestSeq(), t.hasMoreAfter && newest !== undefined ? newest + 1 : undefined);
  }

  /** Whether the timeline holds a stretch of older history, short of the live end. */
  detached(roomId: string): boolean {
    const t = this.peek(roomId);
    t?.track();
    return t?.hasMoreAfter ?? false;
  }

  /** Load the page after the newest message held (while short of the live end). Resolves how many. */
  async loadNewer(roomId: string): Promise<number> {
    const t = this.get(roomId);
    const newest = t.newestSeq();
    if (!t.hasMoreAfter || newest === undefined) return 0;
    const page = await this.c.api.get<MessagePage>(`/rooms/${roomId}/messages?after=${newest}&limit=100`);
    if (this.map.get(roomId) !== t || t.newestSeq() !== newest) return 0;
    t.addNewer(page.messages, page.has_more);
    const top = t.newestSeq();
    if (top !== undefined && top > newest)
      this.backfill(roomId, undefined, t.hasMoreAfter ? top + 1 : undefined, newest);
    return page.messages.length;
  }

  /** Back to the live end from a stretch of older history (sending a message, "Jump to latest"). */
  async backToLatest(roomId: string): Promise<void> {
    const t = this.peek(roomId);
    if (!t?.hasMoreAfter) return;
    t.clear();
    await this.loadLatest(roomId);
  }

  /**
   * The first unread message (as of opening the room): loaded around it in one request unless
   * held, and its id returned (null when there is nothing unread).
   */
  async loadToFirstUnread(roomId: string): Promise<string | null> {
    const target = this.c.rooms.unreadFrom.get(roomId);
    if (target === undefined) return null;
    const t = this.get(roomId);
    const oldest = t.oldestSeq();
    if (!t.loaded || (t.hasMoreBefore && (oldest === undefined || oldest > target))) {
      await this.loadAround(roomId, target);
    }
    return t.messages().find((m) => m.seq >= target)?.id ?? null;
  }

  /**
   * Make a message held (a search result, a pin, a reply quote, a message URL) and tell whether
   * it is. With its seq known (search results, pins, the first unread), a message not held is
   * loaded around that seq in one request (GET /messages?around=): the timeline then holds that
   * stretch and pages newer messages in as the reader scrolls down (`loadNewer`) until it meets
   * the live end. Without it (a reply quote, a message URL), the message is looked up by id
   * first (GET /messages/{id}) for its seq; only if that lookup fails for another reason than
   * "not found" do older pages load, contiguously, until it is held. The DOM stays windowed.
   */
  async loadUntilHeld(roomId: string, messageId: string, seq?: number): Promise<boolean> {
    const t = this.get(roomId);
    if (!t.loaded) await this.loadLatest(roomId);
    if (t.get(messageId)) return true;
    if (seq === undefined) {
      try {
        const m = await this.c.api.get<Message>(`/rooms/${roomId}/messages/${encodeURIComponent(messageId)}`);
        seq = m.seq;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return false;
      }
    }
    if (seq !== undefined) {
      await this.loadAround(roomId, seq);
      return t.get(messageId) !== undefined;
    }
    const before = t.oldestSeq();
    for (let pages = 0; !t.get(messageId) && t.hasMoreBefore && pages < 200; pages++) {
      const oldest = t.oldestSeq();
      if (oldest === undefined) break;
      const page = await this.c.api.get<MessagePage>(`/rooms/${roomId}/messages?before=${oldest}&limit=200`);
      t.addPage(page.messages, page.has_more);
      if (!page.messages.length) break;
    }
    if (t.oldestSeq() !== before) this.backfill(roomId, t.oldestSeq(), before);
    return t.get(messageId) !== undefined;
  }
}
