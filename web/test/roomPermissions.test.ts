import { describe, expect, it } from 'vitest';
import { Rooms } from '../src/lib/rooms';
import type { Room, RoomEvent } from '../src/lib/types';

const room = (o: Partial<Room> = {}): Room =>
  ({
    id: 'r',
    kind: 'group',
    name: 'G',
    avatar: null,
    created_at: '2026-01-01T00:00:00Z',
    created_by: 'a',
    last_activity_at: '2026-01-01T00:00:00Z',
    last_seq: 1,
    member_count: 2,
    my_role: 'member',
    only_admins_post: false,
    permissions: { invite: 'admin', pin: 'admin', mention_room: 'admin' },
    ...o,
  }) as Room;
const updated = (seq: number, changes: RoomEvent['changes']): RoomEvent => ({
  room_id: 'r',
  seq,
  type: 'room.updated',
  actor_id: 'a',
  created_at: '2026-01-01T00:00:00Z',
  changes,
});

describe('room.updated permissions', () => {
  it('merge only the permissions that changed into the room', () => {
    const rooms = new Rooms(() => 'me');
    rooms.upsert(room());
    rooms.apply(updated(2, { permissions: { pin: 'member' } }), false);
    expect(rooms.get('r')?.permissions).toEqual({ invite: 'admin', pin: 'member', mention_room: 'admin' });
    rooms.apply(updated(3, { permissions: { mention_room: 'owner', invite: null }, name: 'H' }), false);
    expect(rooms.get('r')?.permissions).toEqual({ invite: 'admin', pin: 'member', mention_room: 'owner' });
    expect(rooms.get('r')?.name).toBe('H');
  });
  it('a room cached without permissions gets the defaults and the change', () => {
    const rooms = new Rooms(() => 'me');
    const r = room();
    delete (r as Partial<Room>).permissions;
    rooms.upsert(r);
    rooms.apply(updated(2, { permissions: { invite: 'member' } }), false);
    expect(rooms.get('r')?.permissions).toEqual({ invite: 'member', pin: 'admin', mention_room: 'admin' });
  });
});
