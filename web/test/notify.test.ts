import { describe, expect, it } from 'vitest';
import { NOTIFY_MAX_AGE_MS, shouldNotify, type NotifyInput } from '../src/lib/notify';
import type { Message } from '../src/lib/types';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const msg = (p: Partial<Message> = {}): Message => ({
  id: 'm1',
  room_id: 'r1',
  seq: 5,
  sender_id: 'bob',
  client_id: 'c1',
  body: 'hi',
  reply_to: null,
  forwarded: null,
  mentions: [],
  mentions_room: false,
  pinned: false,
  reactions: [],
  created_at: new Date(NOW - 1000).toISOString(),
  edited_at: null,
  deleted_at: null,
  deleted_by: null,
  attachments: [],
  ...p,
});
const input = (p: Partial<NotifyInput> = {}): NotifyInput => ({
  pref: 'all',
  permission: 'granted',
  hidden: true,
  me: 'alice',
  roomKind: 'group',
  message: msg(),
  now: NOW,
  ...p,
});

describe('shouldNotify', () => {
  it('notifies for any message from someone else with "all" while hidden', () => {
    expect(shouldNotify(input())).toBe(true);
  });

  it('never notifies with "none", without permission, or while the tab is visible', () => {
    expect(shouldNotify(input({ pref: 'none' }))).toBe(false);
    expect(shouldNotify(input({ permission: 'default' }))).toBe(false);
    expect(shouldNotify(input({ permission: 'denied' }))).toBe(false);
    expect(shouldNotify(input({ permission: 'unsupported' }))).toBe(false);
    expect(shouldNotify(input({ hidden: false }))).toBe(false);
  });

  it('never notifies for my own messages, deleted ones, or before login', () => {
    expect(shouldNotify(input({ message: msg({ sender_id: 'alice' }) }))).toBe(false);
    expect(shouldNotify(input({ message: msg({ deleted_at: new Date(NOW).toISOString() }) }))).toBe(false);
    expect(shouldNotify(input({ me: null }))).toBe(false);
  });

  it('with "mentions": only mentions of me, @room, and direct messages', () => {
    const m = (p: Partial<NotifyInput>) => shouldNotify(input({ pref: 'mentions', ...p }));
    expect(m({})).toBe(false);
    expect(m({ message: msg({ mentions: ['carol'] }) })).toBe(false);
    expect(m({ message: msg({ mentions: ['carol', 'alice'] }) })).toBe(true);
    expect(m({ message: msg({ mentions_room: true }) })).toBe(true);
    expect(m({ roomKind: 'dm' })).toBe(true);
  });

  it('skips old messages replayed by catch-up, and messages without a valid time', () => {
    expect(
      shouldNotify(input({ message: msg({ created_at: new Date(NOW - NOTIFY_MAX_AGE_MS - 1).toISOString() }) })),
    ).toBe(false);
    expect(
      shouldNotify(input({ message: msg({ created_at: new Date(NOW - NOTIFY_MAX_AGE_MS + 1000).toISOString() }) })),
    ).toBe(true);
    expect(shouldNotify(input({ message: msg({ created_at: '' }) }))).toBe(false);
  });
});
