// The room list: sorted by activity, unread and mention counts, last message preview.
//
// Held in a Solid store keyed by room id: a room's object keeps its identity across updates and
// each field notifies on its own, so a new message in one room updates that room's row (preview,
// badge) and the list order, not every view.
import { createStore, produce, reconcile, unwrap } from 'solid-js/store';
import type { PublicUser, ReadyRoom, Room, RoomEvent } from './types';

export class Rooms {
  private readonly state: Record<string, Room>;
  private readonly set: ReturnType<typeof createStore<Record<string, Room>>>[1];

  constructor(private readonly me: () => string | null) {
    [this.state, this.set] = createStore<Record<string, Room>>({});
  }

  list(): Room[] {
    return Object.values(this.state).sort(
      (a, b) => b.last_activity_at.localeCompare(a.last_activity_at) || a.id.localeCompare(b.id),
    );
  }

  /** Plain copies of the rooms (for the cache: stores are proxies, which IndexedDB cannot clone). */
  snapshot(): Room[] {
    return Object.values(unwrap(this.state)).map((r) => structuredClone(unwrap(r)));
  }

  get(id: string): Room | undefined {
    return this.state[id];
  }

  has(id: string): boolean {
    return id in this.state;
  }

  /** Replace everything with a fresh GET /rooms. */
  setAll(rooms: Room[]): void {
    this.set(reconcile(Object.fromEntries(rooms.map((r) => [r.id, r]))));
  }

  upsert(r: Room): void {
    if (this.has(r.id)) this.set(r.id, { ...r });
    else this.set(r.id, r);
  }

  /** A person's new name or avatar (`user.updated`) on the DMs whose other member they are. */
  updatePeer(u: PublicUser): void {
    for (const r of Object.values(this.state)) {
      if (r.dm_peer?.id === u.id) this.set(r.id, 'dm_peer', { ...r.dm_peer, ...u });
    }
  }

  remove(id: string): void {
    if (!this.has(id)) return;
    this.set(
      produce((s) => {
        delete s[id];
      }),
    );
  }

  /** Counters from `ready` (the server's truth at connect time). */
  applyReady(rooms: ReadyRoom[]): void {
    const present = new Set(rooms.map((r) => r.id));
    for (const id of Object.keys(unwrap(this.state))) if (!present.has(id)) this.remove(id);
    for (const r of rooms) {
      if (!this.has(r.id)) continue;
      this.set(r.id, {
        unread: r.unread,
        mentions: r.mentions,
        read_seq: r.read_seq,
        my_role: r.my_role,
        name: r.name,
      });
    }
  }

  /** Apply a room event. `viewing` is true when the user is looking at the room (no unread). */
  apply(ev: RoomEvent, viewing: boolean): void {
    const r = unwrap(this.state)[ev.room_id];
    if (!r) return;
    const next: Partial<Room> = { last_seq: Math.max(r.last_seq, ev.seq) };
    const me = this.me();
    switch (ev.type) {
      case 'message.created': {
        const m = ev.message;
        if (!m) break;
        // A copy: the store merges into what it holds, and the timeline shares this object.
        next.last_message = structuredClone(m);
        if (m.created_at > r.last_activity_at) next.last_activity_at = m.created_at;
        if (m.sender_id !== me && !viewing) {
          next.unread = (r.unread ?? 0) + 1;
          if ((me && m.mentions.includes(me)) || m.mentions_room) next.mentions = (r.mentions ?? 0) + 1;
        }
        if (m.sender_id === me) next.read_seq = Math.max(r.read_seq ?? 0, m.seq);
        break;
      }
      case 'message.edited':
      case 'message.deleted':
        if (ev.message && r.last_message?.id === ev.message.id) next.last_message = structuredClone(ev.message);
        break;
      case 'member.joined':
        next.member_count = r.member_count + 1;
        break;
      case 'member.left':
      case 'member.kicked':
      case 'member.banned':
        if (ev.user_id === me) {
          this.remove(r.id);
          return;
        }
        next.member_count = Math.max(0, r.member_count - 1);
        break;
      case 'member.role_changed':
        if (ev.user_id === me && ev.role) next.my_role = ev.role;
        break;
      case 'room.updated':
        if (ev.changes) {
          const { permissions, ...rest } = ev.changes;
          Object.assign(next, rest);
          // Only the permissions that changed: merged into what the room has.
          if (permissions) {
            const changed = Object.fromEntries(Object.entries(permissions).filter(([, v]) => v));
            next.permissions = {
              ...(r.permissions ?? { invite: 'admin', pin: 'admin', mention_room: 'admin' }),
              ...changed,
            };
          }
        }
        break;
      case 'room.deleted':
        this.remove(r.id);
        return;
    }
    this.set(r.id, next);
  }

  markRead(roomId: string, seq: number): void {
    const r = unwrap(this.state)[roomId];
    if (!r) return;
    this.set(roomId, { unread: 0, mentions: 0, read_seq: Math.max(r.read_seq ?? 0, seq) });
  }

  /** What to show as a room's name. */
  static title(r: Room): string {
    if (r.kind === 'dm') return r.dm_peer?.display_name || r.dm_peer?.username || 'Direct message';
    return r.name || 'Unnamed group';
  }
}
