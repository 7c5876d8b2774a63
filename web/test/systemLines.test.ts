import { describe, expect, it } from 'vitest';
import { isSystemEvent, systemLine } from '../src/lib/systemLines';
import type { RoomEvent } from '../src/lib/types';

const names: Record<string, string> = { a: 'Alice', b: 'Bob', c: 'Carol', d: 'Dave', e: 'Erin' };
const name = (id: string) => names[id] ?? 'Someone';
const ev = (p: Partial<RoomEvent>): RoomEvent => ({
  actor_id: 'a',
  room_id: 'r',
  seq: 1,
  created_at: '2026-01-01T00:00:00Z',
  type: 'member.joined',
  ...p,
});

describe('systemLine', () => {
  it('says who added whom, or who joined', () => {
    expect(systemLine(ev({ user_id: 'b' }), name)).toBe('Alice added Bob');
    expect(systemLine(ev({ actor_id: 'b', user_id: 'b' }), name)).toBe('Bob joined');
    expect(systemLine(ev({ user_id: 'a', role: 'owner' }), name)).toBe('Alice created the group');
    expect(systemLine(ev({ user_id: 'me' }), name, 'me')).toBe('Alice added you');
    expect(systemLine(ev({ actor_id: 'me', user_id: 'b' }), name, 'me')).toBe('You added Bob');
  });
  it('says who left, was removed or banned (and by whom)', () => {
    expect(systemLine(ev({ type: 'member.left', actor_id: 'b', user_id: 'b' }), name)).toBe('Bob left');
    expect(systemLine(ev({ type: 'member.kicked', user_id: 'c' }), name)).toBe('Carol was removed by Alice');
    expect(systemLine(ev({ type: 'member.banned', user_id: 'd' }), name)).toBe('Dave was banned by Alice');
    expect(systemLine(ev({ type: 'member.kicked', user_id: 'me' }), name, 'me')).toBe('You were removed by Alice');
  });
  it('says role changes', () => {
    expect(systemLine(ev({ type: 'member.role_changed', user_id: 'e', role: 'admin' }), name)).toBe(
      'Erin is now an admin',
    );
    expect(systemLine(ev({ type: 'member.role_changed', user_id: 'e', role: 'member' }), name)).toBe(
      'Erin is no longer an admin',
    );
    expect(systemLine(ev({ type: 'member.role_changed', user_id: 'me', role: 'owner' }), name, 'me')).toBe(
      'You are now the owner',
    );
  });
  it('says room changes, one or several', () => {
    expect(systemLine(ev({ type: 'room.updated', changes: { name: 'Plans' } }), name)).toBe(
      'Alice renamed the group to “Plans”',
    );
    expect(systemLine(ev({ type: 'room.updated', changes: { topic: null } }), name)).toBe('Alice cleared the topic');
    expect(systemLine(ev({ type: 'room.updated', changes: { name: 'X', topic: 'Y', retention_days: 7 } }), name)).toBe(
      'Alice renamed the group to “X”, set the topic to “Y” and set messages to disappear after 7 days',
    );
    expect(systemLine(ev({ type: 'room.updated', changes: { retention_days: 365 } }), name)).toBe(
      'Alice set messages to disappear after 1 year',
    );
    expect(systemLine(ev({ type: 'room.updated', changes: {} }), name)).toBeNull();
    expect(systemLine(ev({ type: 'room.updated' }), name)).toBeNull();
  });
  it('shortens a long name and ignores message events', () => {
    const long = 'x'.repeat(200);
    expect(systemLine(ev({ type: 'room.updated', changes: { name: long } }), name)?.length).toBeLessThan(120);
    expect(systemLine(ev({ type: 'message.created' }), name)).toBeNull();
    expect(isSystemEvent(ev({ type: 'reaction.added' }))).toBe(false);
    expect(isSystemEvent(ev({ type: 'member.banned' }))).toBe(true);
  });
});

describe('moderation lines', () => {
  it('says mutes, unmutes and slow mode', () => {
    const until = '2026-01-01T10:30:00Z';
    const now = Date.parse('2026-01-01T10:00:00Z');
    const at = new Date(until).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    expect(systemLine(ev({ type: 'member.muted', user_id: 'b', muted_until: until }), name, null, now)).toBe(
      `Bob was muted by Alice until ${at}`,
    );
    expect(systemLine(ev({ type: 'member.muted', user_id: 'me', muted_until: until }), name, 'me', now)).toBe(
      `You were muted by Alice until ${at}`,
    );
    expect(systemLine(ev({ type: 'member.unmuted', user_id: 'b' }), name)).toBe('Bob was unmuted by Alice');
    expect(isSystemEvent(ev({ type: 'member.muted' }))).toBe(true);
    expect(systemLine(ev({ type: 'room.updated', changes: { slow_mode_seconds: 300 } }), name)).toBe(
      'Alice changed slow mode to 5 min',
    );
    expect(systemLine(ev({ type: 'room.updated', changes: { slow_mode_seconds: 0 } }), name)).toBe(
      'Alice turned slow mode off',
    );
  });
});

describe('permission changes', () => {
  it('are lines: who may pin, invite or mention @room', () => {
    expect(systemLine(ev({ type: 'room.updated', changes: { permissions: { pin: 'member' } } }), name)).toBe(
      'Alice let members pin messages',
    );
    expect(systemLine(ev({ type: 'room.updated', changes: { permissions: { mention_room: 'owner' } } }), name)).toBe(
      'Alice reserved @room to the owner',
    );
    expect(
      systemLine(ev({ type: 'room.updated', changes: { permissions: { invite: 'member', pin: 'admin' } } }), name, 'a'),
    ).toBe('You let members add people and create invite links and let only admins pin messages');
  });
});
