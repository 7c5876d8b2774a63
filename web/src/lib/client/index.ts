// The application view model. It composes the parts, each a small module with its state in
// Solid signals or stores (so a view re-renders only for what it read):
//
//   session   (session.ts)   screen, signed-in user, connection state, online
//   rooms     (rooms.ts)     room list, the room on screen, read markers, join/leave
//   timelines (timeline.ts)  per-room message lists and their loading
//   messages  (messages.ts)  send (outbox), edit, delete, react, pin, pins, search
//   members   (members.ts)   member lists, users, receipts, presence
//   moderation (moderation.ts) my mute and slow mode per room; mutes, bans, reports, audit
//   typing    (typing.ts)    typing indicators
//   invitations (invitations.ts) groups I was invited to (adds my `group_adds` turned into questions)
//   profile   (profile.ts)   own profile, privacy and sessions
//   persist   (persist.ts)   the offline cache
//   drafts    (../drafts.ts) what was typed but not sent, per room
//
// and wires the REST client, the gateway, sync and the outbox to them. Room events from sync
// are routed to the parts here (applyEvent).
import { batch } from 'solid-js';
import type { Api } from '../api';
import type { CacheStore } from '../cache';
import { type ConnState, Gateway } from '../gateway';
import { Drafts, type DraftStorage, MemoryDraftStorage } from '../drafts';
import { kindOf, Outbox, type OutboxStorage } from '../outbox';
import { Sync } from '../sync';
import type { EventsPage, Me, Message, Ready, Room, RoomEvent, RoomList } from '../types';
import { Invitations } from './invitations';
import { Members } from './members';
import { Messages } from './messages';
import { Moderation } from './moderation';
import { Persistence } from './persist';
import { Profile } from './profile';
import { pageVisible, RoomsModel } from './rooms';
import { type Phase, Session } from './session';
import { Timelines } from './timeline';
import { Typing } from './typing';

export type { Phase };

export interface ClientDeps {
  api: Api;
  outboxStorage: OutboxStorage;
  cache: CacheStore;
  /** Where drafts are kept (IndexedDB in the browser; memory when left out). */
  draftStorage?: DraftStorage;
  wsUrl: string;
  WebSocketImpl?: typeof WebSocket;
  isOnline?: () => boolean;
}

export class Client {
  readonly api: Api;
  readonly gateway: Gateway;
  readonly sync: Sync;
  readonly outbox: Outbox;
  readonly session: Session;
  readonly rooms: RoomsModel;
  readonly timelines: Timelines;
  readonly messages: Messages;
  readonly members: Members;
  readonly moderation: Moderation;
  readonly invitations: Invitations;
  readonly typing: Typing;
  readonly profile: Profile;
  readonly persist: Persistence;
  readonly drafts: Drafts;
  /** Called for every live message from someone else (notifications decide what to do with it). */
  onIncoming: ((roomId: string, m: Message) => void) | null = null;
  /**
   * Runs once signed in, before the app is entered and the gateway starts (an invite link
   * followed while signed out is accepted here, so the first `ready` already lists the room).
   */
  beforeEnter: (() => Promise<void>) | null = null;
  /** Called for every `ai.delta` frame (lib/ai.ts assembles them). */
  onAiDelta: ((d: unknown) => void) | null = null;

  constructor(deps: ClientDeps) {
    this.api = deps.api;
    this.session = new Session(this, deps.isOnline ?? (() => globalThis.navigator?.onLine !== false));
    this.persist = new Persistence(this, deps.cache);
    this.drafts = new Drafts(deps.draftStorage ?? new MemoryDraftStorage());
    this.rooms = new RoomsModel(this);
    this.timelines = new Timelines(this);
    this.messages = new Messages(this);
    this.members = new Members(this);
    this.moderation = new Moderation(this);
    this.invitations = new Invitations(this);
    this.typing = new Typing(this);
    this.profile = new Profile(this);
    this.sync = new Sync({
      fetchEvents: (room, after) => this.api.get<EventsPage>(`/rooms/${room}/events?after=${after}&limit=200`),
      apply: (ev) => this.applyEvent(ev),
      dropRoom: (id) => this.rooms.forget(id),
      resetRoom: (id) => {
        const t = this.timelines.peek(id);
        if (t) {
          t.clear();
          if (this.rooms.currentId() === id) void this.timelines.loadLatest(id);
        }
      },
    });
    this.gateway = new Gateway(
      {
        url: deps.wsUrl,
        getToken: (v) => this.api.getToken(v),
        tokenExpiresAt: () => this.api.tokenExpiresAt,
        WebSocketImpl: deps.WebSocketImpl,
      },
      {
        onReady: (d) => void this.onReady(d),
        onEvent: (ev) => this.sync.onEvent(ev),
        onTyping: (d) => this.typing.received(d.room_id, d.user_id, d.active),
        onReceipt: (d) => this.members.setReceipt(d.room_id, d.user_id, d.seq),
        onPresence: (d) => this.members.setPresence(d.user_id, d.status),
        onState: (s) => this.session.setConn(s),
        onLoggedOut: () => void this.session.loggedOut(),
        onAiDelta: (d) => this.onAiDelta?.(d),
        onInvitation: () => void this.invitations.load().catch(() => {}),
        onUserUpdated: (u) => {
          this.members.userUpdated(u);
          this.persist.scheduleSave();
        },
      },
    );
    this.outbox = new Outbox(deps.outboxStorage, {
      send: (item) => this.messages.deliver(item),
      canSend: () => this.session.online(),
      onSent: (item, m) => {
        if (m) this.timelines.get(item.room_id).insertIfAbsent(m);
        if (m && kindOf(item) === 'send') this.moderation.noteSent(item.room_id);
        this.persist.scheduleSave();
      },
      // Refused by slow mode: the text goes back to the room's draft (the composer shows the wait).
      onReturned: (item) => {
        const cur = this.drafts.get(item.room_id);
        this.drafts.put(item.room_id, cur.trim() ? `${item.body}\n${cur}` : item.body);
        this.moderation.returned(item.room_id);
      },
      onChange: (roomId) => this.timelines.outboxChanged(roomId),
    });
  }

  // ---------- the session state the views read most (tracked) ----------

  get phase(): Phase {
    return this.session.phase();
  }

  get me(): Me | null {
    return this.session.me();
  }

  get conn(): ConnState {
    return this.session.conn();
  }

  get online(): boolean {
    return this.session.online();
  }

  get currentRoom(): string | null {
    return this.rooms.currentId();
  }

  // ---------- what the AI service uses (lib/ai.ts) ----------

  get users() {
    return this.members.users;
  }

  loadMembers(roomId: string): Promise<unknown> {
    return this.members.load(roomId);
  }

  // ---------- lifecycle ----------

  start(): Promise<void> {
    return this.session.start();
  }

  // ---------- sync ----------

  private async onReady(d: Ready): Promise<void> {
    for (const p of d.presence) this.members.setPresence(p.user_id, p.status);
    // Invitations sent while this client was away (no frame reached it): at start and on reconnect.
    void this.invitations.load().catch(() => {});
    let rooms: Room[] | null = null;
    try {
      rooms = (await this.api.get<RoomList>('/rooms')).rooms;
    } catch {
      /* keep what is held; ready's counters below */
    }
    const timelines = this.timelines;
    batch(() => {
      // Keep the last_seq we applied: catch-up moves it forward.
      if (rooms) {
        this.rooms.store.setAll(rooms);
        for (const r of rooms) if (r.dm_peer) this.members.rememberUser(r.dm_peer);
      } else this.rooms.store.applyReady(d.rooms);
    });
    // Rooms without a timeline in memory need no replay: they load their latest page on open.
    const tracked = d.rooms.filter((r) => timelines.has(r.id));
    for (const id of [...this.sync.have.keys()]) if (!timelines.has(id)) this.sync.forget(id);
    for (const r of d.rooms) if (!timelines.has(r.id)) this.sync.setHave(r.id, r.last_seq);
    await this.sync.onReady([...tracked, ...d.rooms.filter((r) => !timelines.has(r.id))]);
    void this.outbox.flush();
    let current = this.rooms.currentId();
    // A room on screen that the server does not list (a stale link, a room left elsewhere).
    if (current && rooms && !rooms.some((r) => r.id === current)) {
      void this.rooms.open(null);
      current = null;
    }
    if (current) {
      if (!timelines.peek(current)?.loaded) void timelines.loadLatest(current);
      this.members.load(current).catch(() => {});
      this.rooms.scheduleRead();
    }
    this.persist.scheduleSave();
  }

  /** One room event, in order (from sync): routed to the parts it concerns. */
  private applyEvent(ev: RoomEvent): void {
    const me = this.session.me()?.id;
    if (!this.rooms.has(ev.room_id) && ev.type === 'member.joined' && ev.user_id === me) {
      void this.api.get<Room>(`/rooms/${ev.room_id}`).then((r) => this.rooms.store.upsert(r));
    }
    batch(() => {
      const viewing = this.rooms.currentId() === ev.room_id && pageVisible();
      this.rooms.store.apply(ev, viewing);
      this.timelines.peek(ev.room_id)?.apply(ev);
      this.moderation.applyEvent(ev);
      if (ev.type === 'message.created' && ev.message) {
        this.typing.received(ev.room_id, ev.message.sender_id, false);
        if (viewing) this.rooms.scheduleRead();
        if (ev.message.sender_id !== me) this.onIncoming?.(ev.room_id, ev.message);
      }
      if (ev.type.startsWith('member.') && this.members.loaded(ev.room_id)) {
        this.members.load(ev.room_id).catch(() => {});
      }
      const removed =
        ev.type === 'room.deleted' ||
        ((ev.type === 'member.kicked' || ev.type === 'member.banned' || ev.type === 'member.left') &&
          ev.user_id === me);
      if (removed) this.rooms.forget(ev.room_id);
    });
    this.persist.scheduleSave();
  }
}
