// Rooms: the room list (lib/rooms.ts, a store), the room on screen (a signal), where its unread
// messages start, the read marker, and the actions that create, join or leave rooms.
import { batch } from 'solid-js';
import { enc } from '../api';
import { signal } from '../reactive';
import { Rooms } from '../rooms';
import type { InviteView, Room, RoomList } from '../types';
import type { Client } from './index';

/** Whether the page is on screen (a hidden tab does not mark anything read). */
export const pageVisible = (): boolean => typeof document === 'undefined' || document.visibilityState !== 'hidden';

export class RoomsModel {
  readonly store: Rooms;
  private readonly current = signal<string | null>(null);
  /** Per room: the first unread seq when the room was opened (the "new messages" line and the jump). */
  readonly unreadFrom = new Map<string, number>();
  /** Rooms whose read marker must not move yet (catch-me-up summarises what is unread). */
  readonly holdRead = new Set<string>();
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  /** Per room: the highest seq this client told the server it read. */
  private readonly readSent = new Map<string, number>();

  constructor(private readonly c: Client) {
    this.store = new Rooms(() => c.session.me()?.id ?? null);
  }

  /** The rooms, most recently active first (tracked). */
  list(): Room[] {
    return this.store.list();
  }

  get(id: string): Room | undefined {
    return this.store.get(id);
  }

  has(id: string): boolean {
    return this.store.has(id);
  }

  /**
   * What to show as a room's name. A DM is named after the other person as the client last saw
   * them (their member entry is reloaded whenever the room opens), not as the room list had it
   * when it was fetched: a changed display name shows without a reconnect.
   */
  title(r: Room): string {
    const peer = r.kind === 'dm' && r.dm_peer ? this.c.members.users.get(r.dm_peer.id) : undefined;
    return peer ? peer.display_name || peer.username : Rooms.title(r);
  }

  /** The room on screen (tracked). */
  currentId(): string | null {
    return this.current.get();
  }

  async open(roomId: string | null): Promise<void> {
    batch(() => {
      if (roomId) {
        // Remember where unread messages start before opening the room marks them read.
        const r = this.store.get(roomId);
        if (r && (r.unread ?? 0) > 0) this.unreadFrom.set(roomId, (r.read_seq ?? 0) + 1);
        else this.unreadFrom.delete(roomId);
      }
      this.current.set(roomId);
    });
    if (!roomId) return;
    const c = this.c;
    if (!c.timelines.get(roomId).loaded) await c.timelines.loadLatest(roomId);
    c.members.load(roomId).catch(() => {});
    this.scheduleRead();
  }

  /** Start tracking a room the client just got into, then show it. */
  private async enter(r: Room): Promise<string> {
    if (!this.c.sync.have.has(r.id)) this.c.sync.setHave(r.id, r.last_seq);
    await this.open(r.id);
    return r.id;
  }

  /** A room I just joined (an invitation accepted): listed and tracked; the view opens it. */
  joined(r: Room): string {
    this.store.upsert(r);
    if (!this.c.sync.have.has(r.id)) this.c.sync.setHave(r.id, r.last_seq);
    return r.id;
  }

  async openDm(userId: string): Promise<string> {
    const r = await this.c.api.post<Room>('/dms', { user_id: userId });
    batch(() => {
      this.store.upsert(r);
      if (r.dm_peer) this.c.members.rememberUser(r.dm_peer);
    });
    return this.enter(r);
  }

  /**
   * Create a group and add the people chosen (one request each, in order, after the room exists).
   * Resolves the room id, who was sent an invitation instead (their `group_adds` setting) and who
   * could not be added (the room is made and entered regardless).
   */
  async createGroup(
    name: string,
    topic?: string,
    memberIds: readonly string[] = [],
  ): Promise<{ roomId: string; invited: string[]; failed: string[] }> {
    const r = await this.c.api.post<Room>('/rooms', { name, topic: topic || undefined });
    this.store.upsert({ ...r, my_role: r.my_role ?? 'owner', unread: 0, mentions: 0 });
    const failed: string[] = [];
    const invited: string[] = [];
    for (const id of memberIds) {
      try {
        if ((await this.c.members.addOnly(r.id, id)) === 'invited') invited.push(id);
      } catch {
        failed.push(id);
      }
    }
    if (memberIds.length) this.c.members.load(r.id).catch(() => {});
    return { roomId: await this.enter(r), invited, failed };
  }

  async acceptInvite(code: string): Promise<string> {
    return this.enter(await this.joinByInvite(code));
  }

  /** Join the room an invite leads to, without opening it (before the app is on screen). */
  async joinByInvite(code: string): Promise<Room> {
    const r = await this.c.api.post<Room>(`/invites/${enc(code)}/accept`);
    this.store.upsert(r);
    if (!this.c.sync.have.has(r.id)) this.c.sync.setHave(r.id, r.last_seq);
    return r;
  }

  async createInvite(roomId: string): Promise<InviteView> {
    return this.c.api.post<InviteView>(`/rooms/${roomId}/invites`, {});
  }

  async leave(roomId: string): Promise<void> {
    const me = this.c.session.me();
    if (!me) return;
    await this.c.api.del(`/rooms/${roomId}/members/${me.id}`);
    this.forget(roomId);
  }

  /** Drop everything held for a room the client is no longer in (left, removed, deleted). */
  forget(roomId: string): void {
    batch(() => {
      this.store.remove(roomId);
      this.c.timelines.drop(roomId);
      this.c.sync.forget(roomId);
      if (this.current.get() === roomId) this.current.set(null);
    });
  }

  /** Sign-out: no rooms, none on screen. */
  reset(): void {
    batch(() => {
      this.store.setAll([]);
      this.current.set(null);
    });
  }

  /** Mark the open room read shortly (once the page is visible and nothing holds the marker). */
  scheduleRead(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      const c = this.c;
      const id = this.current.get();
      if (!id || !pageVisible() || this.holdRead.has(id)) return;
      const last = c.timelines.peek(id)?.messages().at(-1)?.seq ?? 0;
      const r = this.store.get(id);
      if (!r || last === 0) return;
      // Sending moves the local marker to the own message at once, but not the server's: a
      // message from someone else just before it must still be reported read.
      const wasUnread = (r.unread ?? 0) > 0 || (r.read_seq ?? 0) < last || (this.readSent.get(id) ?? 0) < last;
      this.store.markRead(id, last);
      if (!wasUnread) return;
      this.readSent.set(id, last);
      const req = c.gateway.connected
        ? c.gateway.request('read', { room_id: id, seq: last })
        : c.api.post(`/rooms/${id}/read`, { seq: last });
      req.catch(() => {});
    }, 300);
  }

  /** The window got focus again: mark the open room read, refresh the names shown. */
  focused(): void {
    this.scheduleRead();
    void this.refreshPeople();
  }

  private lastPeopleRefresh = 0;

  /**
   * The server sends no event when someone renames themselves: names in the room list are
   * refreshed from GET /rooms when the window comes back (at most every 15 s). Only the people
   * are taken from it; counters and order stay with the live events.
   */
  async refreshPeople(): Promise<void> {
    const c = this.c;
    if (c.phase !== 'app' || Date.now() - this.lastPeopleRefresh < 15_000) return;
    this.lastPeopleRefresh = Date.now();
    try {
      const { rooms } = await c.api.get<RoomList>('/rooms');
      batch(() => {
        for (const r of rooms) if (r.dm_peer) c.members.rememberUser(r.dm_peer);
      });
    } catch {
      /* offline: names stay */
    }
  }
}
