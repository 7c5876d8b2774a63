// The application view model: wires the REST client, the gateway, sync, the outbox, the cache
// and the per-area view models together. Plain TypeScript; the UI reads snapshots and calls
// actions, and re-renders on `changes`.
import { Api, ApiError, enc } from './api';
import { Gateway, GatewayError, type ConnState } from './gateway';
import { Sync } from './sync';
import { Outbox, PermanentSendError, type OutboxItem, type OutboxStorage } from './outbox';
import { Timeline } from './timeline';
import { Rooms } from './rooms';
import type { CacheStore } from './cache';
import { Emitter } from './emitter';
import type {
  EventsPage, InviteView, Me, Media, MemberList, MemberView, Message, MessagePage, PinList, PublicUser, Ready, Room,
  RoomEvent, RoomList, SearchResult, SearchResults, SessionList, SessionView, UserList,
} from './types';

export type Phase = 'loading' | 'auth' | 'app';

export interface ClientDeps {
  api: Api;
  outboxStorage: OutboxStorage;
  cache: CacheStore;
  wsUrl: string;
  WebSocketImpl?: typeof WebSocket;
  isOnline?: () => boolean;
}

export class Client {
  readonly changes = new Emitter();
  phase: Phase = 'loading';
  me: Me | null = null;
  conn: ConnState = 'idle';
  readonly rooms: Rooms;
  readonly timelines = new Map<string, Timeline>();
  readonly users = new Map<string, PublicUser>();
  readonly typing = new Map<string, Map<string, number>>();
  readonly receipts = new Map<string, Map<string, number>>();
  readonly presence = new Map<string, string>();
  readonly members = new Map<string, MemberView[]>();
  currentRoom: string | null = null;
  /** Per room: the first unread seq when the room was opened (the "new messages" line and the jump). */
  readonly unreadFrom = new Map<string, number>();
  /** Called for every live message from someone else (notifications decide what to do with it). */
  onIncoming: ((roomId: string, m: Message) => void) | null = null;
  /** Called for every `ai.delta` frame (lib/ai.ts assembles them). */
  onAiDelta: ((d: unknown) => void) | null = null;
  /** Rooms whose read marker must not move yet (catch-me-up summarises what is unread). */
  readonly holdRead = new Set<string>();
  readonly api: Api;
  readonly gateway: Gateway;
  readonly sync: Sync;
  readonly outbox: Outbox;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  /** Per room: the highest seq this client told the server it read. */
  private readSent = new Map<string, number>();
  private lastTypingSent = new Map<string, number>();
  private isOnline: () => boolean;

  constructor(private readonly deps: ClientDeps) {
    this.api = deps.api;
    this.isOnline = deps.isOnline ?? (() => globalThis.navigator?.onLine !== false);
    const meId = () => this.me?.id ?? null;
    this.rooms = new Rooms(meId);
    this.sync = new Sync({
      fetchEvents: (room, after) => this.api.get<EventsPage>(`/rooms/${room}/events?after=${after}&limit=200`),
      apply: (ev) => this.applyEvent(ev),
      dropRoom: (id) => {
        this.timelines.delete(id);
        this.rooms.remove(id);
        if (this.currentRoom === id) this.currentRoom = null;
      },
      resetRoom: (id) => {
        const t = this.timelines.get(id);
        if (t) {
          t.clear();
          if (this.currentRoom === id) void this.loadLatest(id);
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
        onTyping: (d) => this.onTyping(d.room_id, d.user_id, d.active),
        onReceipt: (d) => {
          this.receiptMap(d.room_id).set(d.user_id, d.seq);
          this.emit();
        },
        onPresence: (d) => {
          this.presence.set(d.user_id, d.status);
          this.emit();
        },
        onState: (s) => {
          this.conn = s;
          this.emit();
        },
        onLoggedOut: () => void this.loggedOut(),
        onAiDelta: (d) => this.onAiDelta?.(d),
      },
    );
    this.outbox = new Outbox(deps.outboxStorage, {
      send: (item) => this.sendNow(item),
      canSend: () => this.isOnline(),
      onSent: (item, m) => {
        this.timeline(item.room_id).insertIfAbsent(m);
        this.scheduleSave();
      },
      onChange: () => this.emit(),
    });
  }

  emit(): void {
    this.changes.emit();
  }

  // ---------- lifecycle ----------

  async start(): Promise<void> {
    await this.outbox.load().catch(() => {});
    const cached = await this.deps.cache.load().catch(() => undefined);
    const res = await this.api.resume();
    if (res === null) {
      this.phase = 'auth';
      this.emit();
      return;
    }
    if (res === 'offline') {
      if (!cached) {
        this.phase = 'auth';
        this.emit();
        return;
      }
      this.me = cached.user;
    } else {
      this.me = res;
    }
    if (cached && cached.user.id === this.me.id) this.restore(cached);
    this.enterApp();
  }

  private restore(c: NonNullable<Awaited<ReturnType<CacheStore['load']>>>): void {
    this.rooms.setAll(c.rooms);
    for (const r of c.rooms) if (r.dm_peer) this.users.set(r.dm_peer.id, r.dm_peer);
    for (const [id, t] of Object.entries(c.timelines)) {
      const tl = this.timeline(id);
      tl.addPage(t.messages, true);
      this.sync.setHave(id, t.have);
    }
  }

  private enterApp(): void {
    this.phase = 'app';
    this.gateway.start();
    this.emit();
  }

  async login(login: string, password: string): Promise<void> {
    this.me = await this.api.login(login, password);
    await this.afterAuth();
  }

  async register(username: string, password: string, displayName?: string): Promise<void> {
    this.me = await this.api.register(username, password, displayName);
    await this.afterAuth();
  }

  private async afterAuth(): Promise<void> {
    const cached = await this.deps.cache.load().catch(() => undefined);
    if (cached && this.me && cached.user.id === this.me.id) this.restore(cached);
    else await this.deps.cache.clear().catch(() => {});
    this.enterApp();
  }

  async logout(all = false): Promise<void> {
    try {
      await this.api.logout(all);
    } catch {
      /* the local session ends anyway */
    }
    await this.loggedOut();
  }

  /** The server ended the session (refresh refused, 4003): back to the login screen. */
  sessionEnded(): void {
    if (this.phase === 'app') void this.loggedOut();
  }

  private async loggedOut(): Promise<void> {
    this.gateway.stop();
    this.outbox.dispose();
    for (const i of this.outbox.list()) await this.outbox.discard(i.client_id).catch(() => {});
    await this.deps.cache.clear().catch(() => {});
    this.me = null;
    this.rooms.setAll([]);
    this.timelines.clear();
    this.sync.have.clear();
    this.currentRoom = null;
    this.phase = 'auth';
    this.emit();
  }

  /** The browser's online/offline events. */
  setOnline(online: boolean): void {
    if (online) {
      this.gateway.nudge();
      void this.outbox.flush();
    }
    this.emit();
  }

  get online(): boolean {
    return this.isOnline();
  }

  // ---------- sync ----------

  private async onReady(d: Ready): Promise<void> {
    for (const p of d.presence) this.presence.set(p.user_id, p.status);
    try {
      const { rooms } = await this.api.get<RoomList>('/rooms');
      // Keep the last_seq we applied: catch-up moves it forward.
      this.rooms.setAll(rooms);
      for (const r of rooms) if (r.dm_peer) this.users.set(r.dm_peer.id, r.dm_peer);
    } catch {
      this.rooms.applyReady(d.rooms);
    }
    // Rooms without a timeline in memory need no replay: they load their latest page on open.
    const tracked = d.rooms.filter((r) => this.timelines.has(r.id));
    for (const id of [...this.sync.have.keys()]) if (!this.timelines.has(id)) this.sync.forget(id);
    for (const r of d.rooms) if (!this.timelines.has(r.id)) this.sync.setHave(r.id, r.last_seq);
    this.emit();
    await this.sync.onReady([...tracked, ...d.rooms.filter((r) => !this.timelines.has(r.id))]);
    this.emit();
    void this.outbox.flush();
    if (this.currentRoom) {
      const t = this.timelines.get(this.currentRoom);
      if (!t || !t.loaded) void this.loadLatest(this.currentRoom);
      this.loadMembers(this.currentRoom).catch(() => {});
      this.scheduleRead();
    }
    this.scheduleSave();
  }

  private applyEvent(ev: RoomEvent): void {
    if (!this.rooms.has(ev.room_id) && ev.type === 'member.joined' && ev.user_id === this.me?.id) {
      void this.api.get<Room>(`/rooms/${ev.room_id}`).then((r) => {
        this.rooms.upsert(r);
        this.emit();
      });
    }
    const viewing = this.currentRoom === ev.room_id && this.visible();
    this.rooms.apply(ev, viewing);
    this.timelines.get(ev.room_id)?.apply(ev);
    if (ev.type === 'message.created' && ev.message) {
      this.onTyping(ev.room_id, ev.message.sender_id, false);
      if (viewing) this.scheduleRead();
      if (ev.message.sender_id !== this.me?.id) this.onIncoming?.(ev.room_id, ev.message);
    }
    if (ev.type.startsWith('member.') && this.members.has(ev.room_id)) this.loadMembers(ev.room_id).catch(() => {});
    if ((ev.type === 'room.deleted' || ((ev.type === 'member.kicked' || ev.type === 'member.banned' || ev.type === 'member.left') && ev.user_id === this.me?.id))) {
      this.timelines.delete(ev.room_id);
      this.sync.forget(ev.room_id);
      if (this.currentRoom === ev.room_id) this.currentRoom = null;
    }
    this.emit();
    this.scheduleSave();
  }

  private visible(): boolean {
    return typeof document === 'undefined' || document.visibilityState !== 'hidden';
  }

  timeline(roomId: string): Timeline {
    let t = this.timelines.get(roomId);
    if (!t) this.timelines.set(roomId, (t = new Timeline(roomId, () => this.me?.id ?? null)));
    return t;
  }

  // ---------- rooms ----------

  async openRoom(roomId: string | null): Promise<void> {
    this.currentRoom = roomId;
    if (roomId) {
      // Remember where unread messages start before opening the room marks them read.
      const r = this.rooms.get(roomId);
      if (r && (r.unread ?? 0) > 0) this.unreadFrom.set(roomId, (r.read_seq ?? 0) + 1);
      else this.unreadFrom.delete(roomId);
    }
    this.emit();
    if (!roomId) return;
    const t = this.timeline(roomId);
    if (!t.loaded) await this.loadLatest(roomId);
    this.loadMembers(roomId).catch(() => {});
    this.scheduleRead();
  }

  private async loadLatest(roomId: string): Promise<void> {
    try {
      const page = await this.api.get<MessagePage>(`/rooms/${roomId}/messages?limit=50`);
      const t = this.timeline(roomId);
      t.addPage(page.messages, page.has_more);
      const room = this.rooms.get(roomId);
      const top = page.messages.reduce((a, m) => Math.max(a, m.seq), 0);
      if (!this.sync.have.has(roomId)) this.sync.setHave(roomId, Math.max(room?.last_seq ?? 0, top));
      this.emit();
      this.scheduleSave();
    } catch {
      /* offline: the cache (if any) stays */
    }
  }

  /** Load the page before the oldest message held. Resolves the number of messages added. */
  async loadOlder(roomId: string): Promise<number> {
    const t = this.timeline(roomId);
    const oldest = t.oldestSeq();
    if (!t.hasMoreBefore || oldest === undefined) return 0;
    const page = await this.api.get<MessagePage>(`/rooms/${roomId}/messages?before=${oldest}&limit=50`);
    t.addPage(page.messages, page.has_more);
    this.emit();
    return page.messages.length;
  }

  /**
   * Load older pages until the first unread message (as of opening the room) is held, and
   * return its id (null when there is nothing unread). Pages are contiguous, so a jump over
   * 1,000 unread messages costs five requests of 200; the list stays windowed.
   */
  async loadToFirstUnread(roomId: string): Promise<string | null> {
    const target = this.unreadFrom.get(roomId);
    if (target === undefined) return null;
    const t = this.timeline(roomId);
    for (;;) {
      const oldest = t.oldestSeq();
      if (!t.hasMoreBefore || oldest === undefined || oldest <= target) break;
      const page = await this.api.get<MessagePage>(`/rooms/${roomId}/messages?before=${oldest}&limit=200`);
      t.addPage(page.messages, page.has_more);
      if (!page.messages.length) break;
    }
    this.emit();
    return t.messages().find((m) => m.seq >= target)?.id ?? null;
  }

  async loadMembers(roomId: string): Promise<MemberView[]> {
    const { members } = await this.api.get<MemberList>(`/rooms/${roomId}/members`);
    this.members.set(roomId, members);
    const rm = this.receiptMap(roomId);
    for (const m of members) {
      this.users.set(m.user.id, m.user);
      rm.set(m.user.id, Math.max(rm.get(m.user.id) ?? 0, m.read_seq));
    }
    this.emit();
    return members;
  }

  private receiptMap(roomId: string): Map<string, number> {
    let m = this.receipts.get(roomId);
    if (!m) this.receipts.set(roomId, (m = new Map()));
    return m;
  }

  /** Members (other than me) who have read up to the message. */
  seenBy(roomId: string, seq: number): PublicUser[] {
    const rm = this.receipts.get(roomId);
    if (!rm) return [];
    const out: PublicUser[] = [];
    for (const [uid, s] of rm) {
      if (uid === this.me?.id || s < seq) continue;
      out.push(this.users.get(uid) ?? { id: uid, username: uid.slice(0, 8), display_name: '' });
    }
    return out;
  }

  displayName(userId: string): string {
    if (userId === this.me?.id) return this.me.display_name || this.me.username;
    const u = this.users.get(userId);
    return u ? u.display_name || u.username : 'Someone';
  }

  async searchUsers(q: string): Promise<PublicUser[]> {
    const { users } = await this.api.get<UserList>(`/users?search=${enc(q)}&limit=10`);
    for (const u of users) this.users.set(u.id, u);
    return users.filter((u) => u.id !== this.me?.id);
  }

  async openDm(userId: string): Promise<string> {
    const r = await this.api.post<Room>('/dms', { user_id: userId });
    this.rooms.upsert(r);
    if (r.dm_peer) this.users.set(r.dm_peer.id, r.dm_peer);
    if (!this.sync.have.has(r.id)) this.sync.setHave(r.id, r.last_seq);
    await this.openRoom(r.id);
    return r.id;
  }

  async createGroup(name: string, topic?: string): Promise<string> {
    const r = await this.api.post<Room>('/rooms', { name, topic: topic || undefined });
    this.rooms.upsert({ ...r, my_role: r.my_role ?? 'owner', unread: 0, mentions: 0 });
    if (!this.sync.have.has(r.id)) this.sync.setHave(r.id, r.last_seq);
    await this.openRoom(r.id);
    return r.id;
  }

  // ---------- messages ----------

  /** Queue a message: it shows at once (sending) and is delivered exactly once. */
  async send(roomId: string, body: string, replyTo?: string | null, attachments?: Media[]): Promise<OutboxItem> {
    this.setTyping(roomId, false);
    return this.outbox.enqueue(roomId, body, replyTo, attachments);
  }

  private async sendNow(item: OutboxItem): Promise<Message> {
    const ids = item.attachments?.map((a) => a.id);
    // With attachments the body may be left out (a photo alone).
    const d = { room_id: item.room_id, client_id: item.client_id, body: ids?.length && !item.body ? undefined : item.body,
      reply_to: item.reply_to ?? undefined, attachments: ids?.length ? ids : undefined };
    try {
      if (this.gateway.connected) {
        const ack = await this.gateway.request<{ message: Message }>('send', d);
        return ack.message;
      }
      const { room_id: _room, ...body } = d;
      return await this.api.post<Message>(`/rooms/${item.room_id}/messages`, body);
    } catch (e) {
      if (e instanceof GatewayError && !e.transient) throw new PermanentSendError(e.message);
      if (e instanceof ApiError && !e.transient && e.status !== 401) throw new PermanentSendError(e.message);
      throw e;
    }
  }

  items(roomId: string) {
    return this.timeline(roomId).items(this.outbox.list(roomId));
  }

  private async op<T>(op: string, d: Record<string, unknown>, rest: () => Promise<T>): Promise<unknown> {
    if (this.gateway.connected) {
      try {
        return await this.gateway.request(op, d);
      } catch (e) {
        if (!(e instanceof GatewayError) || !e.transient) throw e;
      }
    }
    return rest();
  }

  async edit(roomId: string, messageId: string, body: string): Promise<void> {
    const res = (await this.op('edit', { room_id: roomId, message_id: messageId, body }, () =>
      this.api.patch<Message>(`/rooms/${roomId}/messages/${messageId}`, { body }).then((message) => ({ message })),
    )) as { message?: Message };
    const t = this.timeline(roomId);
    const cur = t.get(messageId);
    if (res?.message && cur && (!cur.edited_at || (res.message.edited_at ?? '') >= cur.edited_at)) t.upsert(res.message);
    this.emit();
  }

  async remove(roomId: string, messageId: string): Promise<void> {
    await this.op('delete', { room_id: roomId, message_id: messageId }, () =>
      this.api.del(`/rooms/${roomId}/messages/${messageId}`),
    );
  }

  async react(roomId: string, messageId: string, emoji: string, add: boolean): Promise<void> {
    await this.op('react', { room_id: roomId, message_id: messageId, emoji, add }, () =>
      add
        ? this.api.put(`/rooms/${roomId}/messages/${messageId}/reactions/${enc(emoji)}`)
        : this.api.del(`/rooms/${roomId}/messages/${messageId}/reactions/${enc(emoji)}`),
    );
  }

  async pin(roomId: string, messageId: string, pin: boolean): Promise<void> {
    if (pin) await this.api.put(`/rooms/${roomId}/messages/${messageId}/pin`);
    else await this.api.del(`/rooms/${roomId}/messages/${messageId}/pin`);
  }

  async pins(roomId: string): Promise<Message[]> {
    return (await this.api.get<PinList>(`/rooms/${roomId}/pins`)).messages;
  }

  async search(q: string, roomId?: string): Promise<SearchResult[]> {
    const r = roomId ? `&room=${roomId}` : '';
    return (await this.api.get<SearchResults>(`/search?q=${enc(q)}${r}&limit=30`)).results;
  }

  /** Throttled typing signal (every ~4 s while typing; false when stopping). */
  setTyping(roomId: string, active: boolean): void {
    if (!this.gateway.connected) return;
    const last = this.lastTypingSent.get(roomId) ?? 0;
    const now = Date.now();
    if (active && now - last < 4_000) return;
    if (!active && last === 0) return;
    this.lastTypingSent.set(roomId, active ? now : 0);
    this.gateway.request('typing', { room_id: roomId, active }).catch(() => {});
  }

  private onTyping(roomId: string, userId: string, active: boolean): void {
    if (userId === this.me?.id) return;
    let m = this.typing.get(roomId);
    if (!m) this.typing.set(roomId, (m = new Map()));
    if (active) {
      m.set(userId, Date.now() + 6_000);
      setTimeout(() => this.emit(), 6_100);
    } else m.delete(userId);
    this.emit();
  }

  typingIn(roomId: string): string[] {
    const m = this.typing.get(roomId);
    if (!m) return [];
    const now = Date.now();
    return [...m].filter(([, exp]) => exp > now).map(([u]) => this.displayName(u));
  }

  private scheduleRead(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      const id = this.currentRoom;
      if (!id || !this.visible() || this.holdRead.has(id)) return;
      const t = this.timelines.get(id);
      const last = t?.messages().at(-1)?.seq ?? 0;
      const r = this.rooms.get(id);
      if (!r || last === 0) return;
      // Sending moves the local marker to the own message at once, but not the server's: a
      // message from someone else just before it must still be reported read.
      const wasUnread = (r.unread ?? 0) > 0 || (r.read_seq ?? 0) < last || (this.readSent.get(id) ?? 0) < last;
      this.rooms.markRead(id, last);
      this.emit();
      if (!wasUnread) return;
      this.readSent.set(id, last);
      const req = this.gateway.connected
        ? this.gateway.request('read', { room_id: id, seq: last })
        : this.api.post(`/rooms/${id}/read`, { seq: last });
      req.catch(() => {});
    }, 300);
  }

  /** The window got focus again: mark the open room read. */
  focused(): void {
    this.scheduleRead();
  }

  // ---------- members, invites, sessions, profile ----------

  async addMember(roomId: string, userId: string) {
    await this.api.post(`/rooms/${roomId}/members`, { user_id: userId });
    await this.loadMembers(roomId);
  }
  async setRole(roomId: string, userId: string, role: 'member' | 'admin' | 'owner') {
    await this.api.patch(`/rooms/${roomId}/members/${userId}`, { role });
    await this.loadMembers(roomId);
  }
  async kick(roomId: string, userId: string) {
    await this.api.del(`/rooms/${roomId}/members/${userId}`);
    await this.loadMembers(roomId);
  }
  async ban(roomId: string, userId: string) {
    await this.api.post(`/rooms/${roomId}/bans`, { user_id: userId });
    await this.loadMembers(roomId);
  }
  async leave(roomId: string) {
    await this.api.del(`/rooms/${roomId}/members/${this.me!.id}`);
    this.rooms.remove(roomId);
    this.timelines.delete(roomId);
    this.sync.forget(roomId);
    if (this.currentRoom === roomId) this.currentRoom = null;
    this.emit();
  }
  async createInvite(roomId: string): Promise<InviteView> {
    return this.api.post<InviteView>(`/rooms/${roomId}/invites`, {});
  }
  async acceptInvite(code: string): Promise<string> {
    const r = await this.api.post<Room>(`/invites/${enc(code)}/accept`);
    const room = r && (r as Room).id ? (r as Room) : await this.api.get<Room>(`/rooms/${(r as unknown as { room_id: string }).room_id}`);
    this.rooms.upsert(room);
    if (!this.sync.have.has(room.id)) this.sync.setHave(room.id, room.last_seq);
    await this.openRoom(room.id);
    return room.id;
  }
  async sessions(): Promise<SessionView[]> {
    return (await this.api.get<SessionList>('/auth/sessions')).sessions;
  }
  async revokeSession(id: string) {
    await this.api.del(`/auth/sessions/${id}`);
  }
  async updateProfile(displayName: string) {
    this.me = await this.api.patch<Me>('/users/me', { display_name: displayName });
    this.emit();
  }

  // ---------- cache ----------

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.saveNow();
    }, 800);
  }

  async saveNow(): Promise<void> {
    if (!this.me) return;
    const timelines: Record<string, { messages: Message[]; have: number }> = {};
    for (const [id, t] of this.timelines) {
      const have = this.sync.have.get(id);
      if (!t.loaded || have === undefined || this.sync.isCatchingUp(id)) continue;
      timelines[id] = { messages: t.recent(50), have };
    }
    await this.deps.cache.save({ user: this.me, rooms: this.rooms.list(), timelines }).catch(() => {});
  }
}
