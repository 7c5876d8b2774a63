// One room's message list: server messages ordered by seq plus optimistic ones (from the
// outbox) keyed by client_id, reconciled when the server's copy arrives (same sender and
// client_id), whichever comes first: the ack or the message.created event.
//
// Reactive per timeline: reading its messages tracks this timeline only, so a message arriving
// in one room re-renders that room's list and nothing else. Message objects are immutable (a
// change replaces the object), which is what lets the list keep a row while its message is
// the same object.
import { createSignal } from 'solid-js';
import { kindOf, type OutboxItem } from './outbox';
import type { Message, RoomEvent } from './types';
import { isSystemEvent } from './systemLines';

export type SendState = 'sent' | 'sending' | 'failed';

/**
 * What a deleted message's tombstone says, from the message itself (history and live alike):
 * deleted by its sender, removed by someone else (an admin), or expired (`deleted_by` null: a
 * retention purge). A copy cached before `deleted_by` existed reads as deleted.
 */
export function tombstoneText(m: Pick<Message, 'sender_id' | 'deleted_at' | 'deleted_by'>): string {
  if (m.deleted_by === undefined || m.deleted_by === m.sender_id) return 'Message deleted';
  return m.deleted_by === null ? 'Message expired' : 'Removed by an admin';
}

export interface TimelineItem {
  key: string;
  message: Message;
  state: SendState;
  error?: string;
  /**
   * A membership or room change shown as a line ("Alice added Bob"); `message` is then a stand-in
   * at the event's seq (no sender, no body), so ordering and keys work as for messages.
   */
  system?: RoomEvent;
  /**
   * Edits, deletes and reactions of this message still in the outbox (queued or failed), in the
   * order written. Queued ones already show (new text, my reaction); failed ones do not.
   */
  pending?: OutboxItem[];
  /** Changes when `pending` does (rows compare it to know when to re-render). */
  pendingKey?: string;
}

/**
 * The message as it will be once its queued actions are done: the last queued edit's text, my
 * queued reactions added or removed. The server's copy is left as it is (a new object).
 */
export function withPending(m: Message, pending: readonly OutboxItem[], me: string): Message {
  let body = m.body;
  let edited = false;
  let reactions = m.reactions;
  for (const p of pending) {
    if (p.state !== 'queued') continue;
    const kind = kindOf(p);
    if (kind === 'edit') {
      body = p.body;
      edited = true;
    } else if (kind === 'react' && p.emoji) {
      const emoji = p.emoji;
      const has = reactions.find((r) => r.emoji === emoji);
      if (p.add !== false && !has?.users.includes(me)) {
        reactions = has
          ? reactions.map((r) => (r === has ? { ...r, count: r.count + 1, users: [...r.users, me] } : r))
          : [...reactions, { emoji, count: 1, users: [me] }];
      } else if (p.add === false && has?.users.includes(me)) {
        reactions = reactions
          .map((r) => (r === has ? { ...r, count: r.count - 1, users: r.users.filter((u) => u !== me) } : r))
          .filter((r) => r.count > 0);
      }
    }
  }
  if (!edited && reactions === m.reactions) return m;
  return { ...m, body, reactions, edited_at: edited ? (m.edited_at ?? m.created_at) : m.edited_at };
}

export class Timeline {
  private byId = new Map<string, Message>();
  private order: Message[] = [];
  /** Membership and room changes by seq, each with its (stable) row. */
  private events = new Map<number, TimelineItem>();
  /** The last message-with-pending-actions made for a message (same input, same object). */
  private overlays = new WeakMap<Message, { key: string; m: Message }>();
  private dirty = false;
  private readonly version = createSignal(0, { equals: false });
  /** Whether older messages exist on the server before the first one we hold. */
  hasMoreBefore = true;
  /** Whether the latest page has been loaded (or the cache provided it). */
  loaded = false;
  /**
   * Whether newer messages exist on the server after the newest one held: the timeline holds a
   * stretch of history around a message jumped to (`?around=`), and pages after it (`after=`)
   * until it meets the live end. Live messages beyond that stretch are left to those pages.
   */
  hasMoreAfter = false;
  /** The highest seq of a live message left out while `hasMoreAfter` (the pages must reach it). */
  private skippedSeq = 0;

  constructor(
    readonly roomId: string,
    private readonly me: () => string | null,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** Subscribe the current reactive scope to changes of this timeline. */
  track(): void {
    this.version[0]();
  }

  private changed(): void {
    this.version[1](0);
  }

  messages(): Message[] {
    this.track();
    if (this.dirty) {
      this.order = [...this.byId.values()].sort((a, b) => a.seq - b.seq);
      this.dirty = false;
    }
    return this.order;
  }

  get(id: string): Message | undefined {
    this.track();
    return this.byId.get(id);
  }

  oldestSeq(): number | undefined {
    return this.messages()[0]?.seq;
  }

  newestSeq(): number | undefined {
    return this.messages().at(-1)?.seq;
  }

  /** Past the newest message held, while newer ones are still to be paged in (a gap). */
  private beyond(seq: number): boolean {
    if (!this.hasMoreAfter) return false;
    const newest = this.newestSeq();
    return newest === undefined || seq > newest;
  }

  byClientId(clientId: string): Message | undefined {
    const me = this.me();
    for (const m of this.byId.values()) if (m.client_id === clientId && m.sender_id === me) return m;
    return undefined;
  }

  /** Insert or replace with a newer state (events are applied in seq order, so later wins). */
  upsert(m: Message): void {
    this.byId.set(m.id, m);
    this.dirty = true;
    this.changed();
  }

  /** Insert only if absent (acks carry the creation state, which may be older than an edit). */
  insertIfAbsent(m: Message): void {
    if (this.beyond(m.seq)) {
      this.skippedSeq = Math.max(this.skippedSeq, m.seq);
      return;
    }
    if (!this.byId.has(m.id)) this.upsert(m);
  }

  /** A page of older (or latest) messages from GET /messages. */
  addPage(msgs: Message[], hasMoreBefore: boolean): void {
    for (const m of msgs) if (!this.byId.has(m.id)) this.byId.set(m.id, m);
    this.dirty = true;
    this.hasMoreBefore = hasMoreBefore;
    this.loaded = true;
    this.changed();
  }

  /**
   * The page around a message jumped to (GET /messages?around=): replaces what is held, which
   * may have been contiguous from the latest; `hasNewer` says newer messages are still to load.
   */
  setAround(msgs: Message[], hasMore: boolean, hasNewer: boolean): void {
    // Live messages that came in while the page was on its way stay when it reaches the end.
    const top = msgs.at(-1)?.seq ?? 0;
    const keep = hasNewer ? [] : [...this.byId.values()].filter((m) => m.seq > top);
    this.byId.clear();
    this.events.clear();
    for (const m of [...msgs, ...keep]) this.byId.set(m.id, m);
    this.dirty = true;
    this.hasMoreBefore = hasMore;
    this.hasMoreAfter = hasNewer;
    this.skippedSeq = 0;
    this.loaded = true;
    this.changed();
  }

  /**
   * A page after the newest message held (GET /messages?after=). Once none are newer the
   * timeline has met the live end and follows live messages again (unless one left out while
   * paging is still beyond this page: then one more page).
   */
  addNewer(msgs: Message[], hasNewer: boolean): void {
    for (const m of msgs) if (!this.byId.has(m.id)) this.byId.set(m.id, m);
    this.dirty = true;
    const newest = this.newestSeq() ?? 0;
    this.hasMoreAfter = hasNewer || (msgs.length > 0 && this.skippedSeq > newest);
    if (!this.hasMoreAfter) this.skippedSeq = 0;
    this.changed();
  }

  /** A membership or room change (live, from catch-up, or loaded for the history held). */
  addSystem(ev: RoomEvent): void {
    if (!isSystemEvent(ev) || this.events.has(ev.seq)) return;
    if (this.beyond(ev.seq)) return;
    this.events.set(ev.seq, {
      key: `e:${ev.seq}`,
      state: 'sent',
      system: ev,
      message: {
        id: `e:${ev.seq}`,
        room_id: ev.room_id,
        seq: ev.seq,
        sender_id: ev.actor_id,
        client_id: '',
        body: '',
        reply_to: null,
        forwarded: null,
        mentions: [],
        mentions_room: false,
        pinned: false,
        reactions: [],
        created_at: ev.created_at,
        edited_at: null,
        deleted_at: null,
        deleted_by: null,
        attachments: [],
      },
    });
    this.changed();
  }

  clear(): void {
    this.byId.clear();
    this.events.clear();
    this.dirty = true;
    this.loaded = false;
    this.hasMoreBefore = true;
    this.hasMoreAfter = false;
    this.skippedSeq = 0;
    this.changed();
  }

  /** Apply a room event (already ordered by the sync engine). */
  apply(ev: RoomEvent): void {
    if (isSystemEvent(ev)) {
      this.addSystem(ev);
      return;
    }
    switch (ev.type) {
      case 'message.created':
      case 'message.edited':
      case 'message.deleted':
      case 'message.pinned':
      case 'message.unpinned':
        if (ev.type === 'message.created' && ev.message && this.beyond(ev.message.seq)) {
          this.skippedSeq = Math.max(this.skippedSeq, ev.message.seq);
          return;
        }
        if (ev.message && (ev.type === 'message.created' || this.byId.has(ev.message.id))) this.upsert(ev.message);
        return;
      case 'reaction.added':
      case 'reaction.removed': {
        const m = ev.message_id ? this.byId.get(ev.message_id) : undefined;
        if (!m || !ev.emoji || !ev.user_id) return;
        if (ev.message) {
          this.upsert(ev.message);
          return;
        }
        const reactions = m.reactions.map((r) => ({ ...r, users: [...r.users] }));
        let r = reactions.find((x) => x.emoji === ev.emoji);
        if (ev.type === 'reaction.added') {
          if (!r) {
            r = { emoji: ev.emoji, count: 0, users: [] };
            reactions.push(r);
          }
          if (!r.users.includes(ev.user_id)) {
            r.users.push(ev.user_id);
            r.count++;
          }
        } else if (r) {
          r.users = r.users.filter((u) => u !== ev.user_id);
          r.count = Math.max(0, r.count - 1);
        }
        this.upsert({ ...m, reactions: reactions.filter((x) => x.count > 0) });
        return;
      }
    }
  }

  /**
   * The list to render: server messages, then outbox items not yet reconciled (an item whose
   * client_id the server already knows is shown once, as the server's message).
   */
  items(outbox: OutboxItem[], withSystem = true): TimelineItem[] {
    const msgs = this.messages();
    // Edits, deletes and reactions waiting in the outbox, by message.
    const actions = new Map<string, OutboxItem[]>();
    for (const o of outbox) {
      if (kindOf(o) === 'send' || !o.message_id) continue;
      const l = actions.get(o.message_id);
      if (l) l.push(o);
      else actions.set(o.message_id, [o]);
    }
    const me = this.me() ?? '';
    let out: TimelineItem[] = msgs.map((m) => {
      const pending = actions.get(m.id);
      if (!pending) return { key: m.id, message: m, state: 'sent' as const };
      const pendingKey = pending.map((p) => `${p.client_id}:${p.state}:${p.error ?? ''}`).join('|');
      let o = this.overlays.get(m);
      if (!o || o.key !== pendingKey) {
        o = { key: pendingKey, m: withPending(m, pending, me) };
        this.overlays.set(m, o);
      }
      return { key: m.id, message: o.m, state: 'sent' as const, pending, pendingKey };
    });
    if (withSystem && this.events.size) {
      // Lines within the history held (none above a gap of older messages not loaded yet).
      const from = this.hasMoreBefore ? (msgs[0]?.seq ?? Number.MAX_SAFE_INTEGER) : 0;
      // …nor below one of newer messages not loaded yet.
      const to = this.hasMoreAfter ? (msgs.at(-1)?.seq ?? 0) : Number.MAX_SAFE_INTEGER;
      const lines = [...this.events.values()].filter((e) => e.message.seq > from && e.message.seq <= to);
      if (lines.length) out = [...out, ...lines].sort((a, b) => a.message.seq - b.message.seq);
    }
    for (const o of outbox) {
      if (kindOf(o) !== 'send' || this.byClientId(o.client_id)) continue;
      out.push({
        key: `c:${o.client_id}`,
        state: o.state === 'failed' ? 'failed' : 'sending',
        error: o.error,
        message: {
          id: `c:${o.client_id}`,
          room_id: o.room_id,
          seq: Number.MAX_SAFE_INTEGER,
          sender_id: me,
          client_id: o.client_id,
          body: o.body,
          reply_to: o.reply_to ?? null,
          forwarded: null,
          mentions: [],
          mentions_room: false,
          pinned: false,
          reactions: [],
          created_at: o.created_at,
          edited_at: null,
          deleted_at: null,
          deleted_by: null,
          attachments: o.attachments ?? [],
        },
      });
    }
    return out;
  }

  /** The last message I sent that can be edited (for Up in the composer). */
  lastOwn(): Message | undefined {
    const me = this.me();
    const ms = this.messages();
    for (let i = ms.length - 1; i >= 0; i--) if (ms[i].sender_id === me && !ms[i].deleted_at) return ms[i];
    return undefined;
  }

  /** Recent messages for the cache. */
  recent(n = 50): Message[] {
    const ms = this.messages();
    return ms.slice(Math.max(0, ms.length - n));
  }
}
