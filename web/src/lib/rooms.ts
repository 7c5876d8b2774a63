// The room list: sorted by activity, unread and mention counts, last message preview.
import type { Message, ReadyRoom, Room, RoomEvent } from './types';

export class Rooms {
  private map = new Map<string, Room>();

  constructor(private readonly me: () => string | null) {}

  list(): Room[] {
    return [...this.map.values()].sort(
      (a, b) => b.last_activity_at.localeCompare(a.last_activity_at) || a.id.localeCompare(b.id),
    );
  }

  get(id: string): Room | undefined {
    return this.map.get(id);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  /** Replace everything with a fresh GET /rooms. */
  setAll(rooms: Room[]): void {
    this.map = new Map(rooms.map((r) => [r.id, r]));
  }

  upsert(r: Room): void {
    const old = this.map.get(r.id);
    this.map.set(r.id, { ...old, ...r });
  }

  remove(id: string): void {
    this.map.delete(id);
  }

  /** Counters from `ready` (the server's truth at connect time). */
  applyReady(rooms: ReadyRoom[]): void {
    const present = new Set(rooms.map((r) => r.id));
    for (const id of [...this.map.keys()]) if (!present.has(id)) this.map.delete(id);
    for (const r of rooms) {
      const old = this.map.get(r.id);
      if (old) this.map.set(r.id, { ...old, unread: r.unread, mentions: r.mentions, read_seq: r.read_seq, my_role: r.my_role, name: r.name });
    }
  }

  /** Apply a room event. `viewing` is true when the user is looking at the room (no unread). */
  apply(ev: RoomEvent, viewing: boolean): void {
    const r = this.map.get(ev.room_id);
    if (!r) return;
    const next: Room = { ...r, last_seq: Math.max(r.last_seq, ev.seq) };
    const me = this.me();
    switch (ev.type) {
      case 'message.created': {
        const m = ev.message as Message | undefined;
        if (!m) break;
        next.last_message = m;
        next.last_activity_at = m.created_at > r.last_activity_at ? m.created_at : r.last_activity_at;
        if (m.sender_id !== me && !viewing) {
          next.unread = (r.unread ?? 0) + 1;
          if ((me && m.mentions.includes(me)) || m.mentions_room) next.mentions = (r.mentions ?? 0) + 1;
        }
        if (m.sender_id === me) next.read_seq = Math.max(r.read_seq ?? 0, m.seq);
        break;
      }
      case 'message.edited':
      case 'message.deleted':
        if (ev.message && r.last_message?.id === ev.message.id) next.last_message = ev.message;
        break;
      case 'member.joined':
        next.member_count = r.member_count + 1;
        break;
      case 'member.left':
      case 'member.kicked':
      case 'member.banned':
        if (ev.user_id === me) {
          this.map.delete(r.id);
          return;
        }
        next.member_count = Math.max(0, r.member_count - 1);
        break;
      case 'member.role_changed':
        if (ev.user_id === me && ev.role) next.my_role = ev.role;
        break;
      case 'room.updated':
        if (ev.changes) Object.assign(next, ev.changes);
        break;
      case 'room.deleted':
        this.map.delete(r.id);
        return;
    }
    this.map.set(r.id, next);
  }

  markRead(roomId: string, seq: number): void {
    const r = this.map.get(roomId);
    if (!r) return;
    this.map.set(roomId, { ...r, unread: 0, mentions: 0, read_seq: Math.max(r.read_seq ?? 0, seq) });
  }

  /** What to show as a room's name. */
  static title(r: Room): string {
    if (r.kind === 'dm') return r.dm_peer?.display_name || r.dm_peer?.username || 'Direct message';
    return r.name || 'Unnamed group';
  }
}
