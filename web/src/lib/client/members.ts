// People: member lists per room, the users the client knows (names), read receipts and
// presence. Each is a Solid store keyed by room or user, so a receipt in one room updates that
// room's "Seen by" line, a name that arrives updates the rows showing it, and nothing else.
import { batch } from 'solid-js';
import { createStore } from 'solid-js/store';
import { enc } from '../api';
import type { AddOutcome, MemberList, MemberView, PublicUser, Role, UserList, UserProfile } from '../types';
import type { Client } from './index';

/** What an add did: the person is a member, or was sent an invitation (their `group_adds`). */
export type AddResult = 'added' | 'invited';

/** The users the client has seen, by id (read-only view; the AI service looks the assistant up). */
export interface UserDirectory {
  get(id: string): PublicUser | undefined;
  values(): PublicUser[];
}

export class Members {
  private readonly lists: Record<string, MemberView[]>;
  private readonly setLists: ReturnType<typeof createStore<Record<string, MemberView[]>>>[1];
  private readonly userMap: Record<string, PublicUser>;
  private readonly setUsers: ReturnType<typeof createStore<Record<string, PublicUser>>>[1];
  /** Per room: the highest seq each member has read. */
  private readonly receipts: Record<string, Record<string, number>>;
  private readonly setReceipts: ReturnType<typeof createStore<Record<string, Record<string, number>>>>[1];
  private readonly presenceMap: Record<string, string>;
  private readonly setPresenceMap: ReturnType<typeof createStore<Record<string, string>>>[1];
  /** When people were last online (`last_seen_at`), for those asked about (null: not known). */
  private readonly lastSeenMap: Record<string, string | null>;
  private readonly setLastSeenMap: ReturnType<typeof createStore<Record<string, string | null>>>[1];

  readonly users: UserDirectory = {
    get: (id) => this.userMap[id],
    values: () => Object.values(this.userMap),
  };

  constructor(private readonly c: Client) {
    [this.lists, this.setLists] = createStore<Record<string, MemberView[]>>({});
    [this.userMap, this.setUsers] = createStore<Record<string, PublicUser>>({});
    [this.receipts, this.setReceipts] = createStore<Record<string, Record<string, number>>>({});
    [this.presenceMap, this.setPresenceMap] = createStore<Record<string, string>>({});
    [this.lastSeenMap, this.setLastSeenMap] = createStore<Record<string, string | null>>({});
  }

  /** A room's members, once loaded (tracked per room). */
  get(roomId: string): MemberView[] | undefined {
    return this.lists[roomId];
  }

  /** Whether the room's member list was loaded (then member events reload it). */
  loaded(roomId: string): boolean {
    return roomId in this.lists;
  }

  async load(roomId: string): Promise<MemberView[]> {
    const { members } = await this.c.api.get<MemberList>(`/rooms/${roomId}/members`);
    const read: Record<string, number> = {};
    const held = this.receipts[roomId] ?? {};
    for (const m of members) read[m.user.id] = Math.max(held[m.user.id] ?? 0, m.read_seq);
    batch(() => {
      this.setLists(roomId, members);
      this.rememberUsers(members.map((m) => m.user));
      this.setReceipts(roomId, (prev) => ({ ...prev, ...read }));
      this.c.moderation.noteMembers(roomId, members);
    });
    return members;
  }

  /** Make sure a user's name is known (GET /users/{id} when it is not). */
  async ensureUser(userId: string): Promise<void> {
    if (this.userMap[userId] || userId === this.c.session.me()?.id) return;
    this.rememberUser(await this.c.api.get<PublicUser>(`/users/${userId}`));
  }

  rememberUser(u: PublicUser): void {
    this.setUsers(u.id, { ...u });
  }

  rememberUsers(users: PublicUser[]): void {
    for (const u of users) this.rememberUser(u);
  }

  /**
   * A `user.updated` frame: someone's new display name or avatar, put everywhere the client keeps
   * them — the users it knows (timeline names, avatars, profile cards), the member lists that hold
   * them, the DMs whose other member they are (room list), and me when it is my other device.
   */
  userUpdated(u: PublicUser): void {
    const fresh: PublicUser = {
      id: u.id,
      username: u.username,
      display_name: u.display_name,
      avatar: u.avatar ?? null,
    };
    batch(() => {
      this.setUsers(u.id, (prev) => ({ ...prev, ...fresh }));
      for (const [roomId, list] of Object.entries(this.lists)) {
        const i = list.findIndex((m) => m.user.id === u.id);
        if (i >= 0) this.setLists(roomId, i, 'user', (prev) => ({ ...prev, ...fresh }));
      }
      this.c.rooms.store.updatePeer(fresh);
      const me = this.c.session.me();
      if (me && me.id === u.id) {
        this.c.session.setMe({ ...me, username: u.username, display_name: u.display_name, avatar: fresh.avatar });
      }
    });
  }

  /** A read receipt from the gateway. */
  setReceipt(roomId: string, userId: string, seq: number): void {
    this.setReceipts(roomId, (prev) => ({ ...prev, [userId]: seq }));
  }

  setPresence(userId: string, status: string): void {
    const was = this.presenceMap[userId];
    this.setPresenceMap(userId, status);
    // Went offline: that moment is their last seen; the server's own time replaces it.
    if (status === 'offline' && was !== 'offline' && userId in this.lastSeenMap) {
      this.setLastSeenMap(userId, new Date().toISOString());
      this.loadProfile(userId).catch(() => {});
    }
  }

  /** GET /users/{id}: the person's profile (remembered) and when they were last seen. */
  async loadProfile(userId: string): Promise<UserProfile> {
    const p = await this.c.api.get<UserProfile>(`/users/${userId}`);
    batch(() => {
      this.rememberUser({ id: p.id, username: p.username, display_name: p.display_name, avatar: p.avatar ?? null });
      this.setLastSeenMap(userId, p.last_seen_at ?? null);
    });
    return p;
  }

  /**
   * When the person was last online (tracked), once asked for with `loadProfile`: an ISO time,
   * null when the server does not say (no shared room, never recorded), undefined when not asked.
   */
  lastSeen(userId: string): string | null | undefined {
    return this.lastSeenMap[userId];
  }

  presence(userId: string): string | undefined {
    return this.presenceMap[userId];
  }

  /** Members (other than me) who have read up to the message. */
  seenBy(roomId: string, seq: number): PublicUser[] {
    const rm = this.receipts[roomId];
    if (!rm) return [];
    const me = this.c.session.me()?.id;
    const out: PublicUser[] = [];
    for (const [uid, s] of Object.entries(rm)) {
      if (uid === me || s < seq) continue;
      out.push(this.userMap[uid] ?? { id: uid, username: uid.slice(0, 8), display_name: '' });
    }
    return out;
  }

  displayName(userId: string): string {
    const me = this.c.session.me();
    if (userId === me?.id) return me.display_name || me.username;
    const u = this.userMap[userId];
    return u ? u.display_name || u.username : 'Someone';
  }

  async searchUsers(q: string): Promise<PublicUser[]> {
    const { users } = await this.c.api.get<UserList>(`/users?search=${enc(q)}&limit=10`);
    this.rememberUsers(users);
    const me = this.c.session.me()?.id;
    return users.filter((u) => u.id !== me);
  }

  /**
   * Add someone to a group: `added`, or `invited` when their `group_adds` setting turned the add
   * into an invitation (202). 409 `already_invited` is thrown.
   */
  async add(roomId: string, userId: string): Promise<AddResult> {
    const r = await this.addOnly(roomId, userId);
    if (r === 'added') await this.load(roomId);
    return r;
  }

  /** The request alone (no member list reload). */
  async addOnly(roomId: string, userId: string): Promise<AddResult> {
    const r = await this.c.api.post<AddOutcome | undefined>(`/rooms/${roomId}/members`, { user_id: userId });
    return r?.status === 'invited' ? 'invited' : 'added';
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<void> {
    await this.c.api.patch(`/rooms/${roomId}/members/${userId}`, { role });
    await this.load(roomId);
  }

  async kick(roomId: string, userId: string, reason?: string): Promise<void> {
    const q = reason?.trim() ? `?reason=${enc(reason.trim())}` : '';
    await this.c.api.del(`/rooms/${roomId}/members/${userId}${q}`);
    await this.load(roomId);
  }

  async ban(roomId: string, userId: string, reason?: string): Promise<void> {
    await this.c.api.post(`/rooms/${roomId}/bans`, { user_id: userId, reason: reason?.trim() || undefined });
    await this.load(roomId);
  }
}
