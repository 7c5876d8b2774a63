import { describe, expect, it } from 'vitest';
import { Timeline, tombstoneText } from '../src/lib/timeline';
import type { OutboxItem } from '../src/lib/outbox';
import type { Message, RoomEvent } from '../src/lib/types';

const m = (seq: number, o: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  room_id: 'r',
  seq,
  sender_id: 'me',
  client_id: `c${seq}`,
  body: `b${seq}`,
  reply_to: null,
  forwarded: null,
  mentions: [],
  mentions_room: false,
  pinned: false,
  reactions: [],
  created_at: `2024-01-01T00:00:0${seq % 10}Z`,
  edited_at: null,
  deleted_at: null,
  deleted_by: null,
  attachments: [],
  ...o,
});
const item = (cid: string, body: string, state: 'queued' | 'failed' = 'queued'): OutboxItem => ({
  client_id: cid,
  room_id: 'r',
  body,
  created_at: '',
  order: 1,
  state,
});
const ev = (seq: number, type: RoomEvent['type'], o: Partial<RoomEvent> = {}): RoomEvent => ({
  room_id: 'r',
  seq,
  type,
  actor_id: 'me',
  created_at: '',
  ...o,
});

describe('timeline reconciliation', () => {
  it('shows an optimistic message once, then the server copy by client_id', () => {
    const t = new Timeline('r', () => 'me');
    t.addPage([m(1)], false);
    const ob = [item('x', 'hello')];
    let items = t.items(ob);
    expect(items.map((i) => [i.message.body, i.state])).toEqual([
      ['b1', 'sent'],
      ['hello', 'sending'],
    ]);
    // The event arrives before the ack (and before the outbox forgets it): shown once.
    t.apply(ev(2, 'message.created', { message: m(2, { client_id: 'x', body: 'hello' }) }));
    items = t.items(ob);
    expect(items.map((i) => [i.message.body, i.state])).toEqual([
      ['b1', 'sent'],
      ['hello', 'sent'],
    ]);
    // Then the ack: still once.
    t.insertIfAbsent(m(2, { client_id: 'x', body: 'hello' }));
    expect(t.items([]).length).toBe(2);
  });

  it("does not match another sender's client_id", () => {
    const t = new Timeline('r', () => 'me');
    t.apply(ev(1, 'message.created', { message: m(1, { client_id: 'x', sender_id: 'other' }) }));
    expect(t.items([item('x', 'mine')]).length).toBe(2);
  });

  it('keeps failed items with their state', () => {
    const t = new Timeline('r', () => 'me');
    expect(t.items([item('y', 'oops', 'failed')])[0].state).toBe('failed');
  });

  it('an ack never overwrites a later edit', () => {
    const t = new Timeline('r', () => 'me');
    t.apply(ev(1, 'message.created', { message: m(1) }));
    t.apply(ev(2, 'message.edited', { message: m(1, { body: 'edited', edited_at: 'x' }) }));
    t.insertIfAbsent(m(1));
    expect(t.get('m1')!.body).toBe('edited');
  });

  it('applies deletes, reactions and keeps seq order with older pages', () => {
    const t = new Timeline('r', () => 'me');
    t.addPage([m(5), m(6)], true);
    t.addPage([m(3), m(4)], false);
    expect(t.messages().map((x) => x.seq)).toEqual([3, 4, 5, 6]);
    t.apply(ev(7, 'reaction.added', { message_id: 'm5', user_id: 'u', emoji: '👍' }));
    t.apply(ev(8, 'reaction.added', { message_id: 'm5', user_id: 'v', emoji: '👍' }));
    expect(t.get('m5')!.reactions).toEqual([{ emoji: '👍', count: 2, users: ['u', 'v'] }]);
    t.apply(ev(9, 'reaction.removed', { message_id: 'm5', user_id: 'u', emoji: '👍' }));
    expect(t.get('m5')!.reactions[0].count).toBe(1);
    t.apply(ev(10, 'message.deleted', { message: m(6, { body: '', deleted_at: 'now' }) }));
    expect(t.get('m6')!.deleted_at).toBe('now');
    expect(t.lastOwn()!.seq).toBe(5);
  });
});

describe('membership lines', () => {
  it('are merged by seq with messages, stable across renders, and only where history is held', () => {
    const t = new Timeline('r', () => 'me');
    t.addPage([m(5), m(8)], true);
    t.apply(ev(3, 'member.joined', { user_id: 'b' }));
    t.apply(ev(6, 'member.joined', { user_id: 'b' }));
    t.apply(ev(9, 'member.left', { actor_id: 'b', user_id: 'b' }));
    t.apply(ev(10, 'reaction.added', { message_id: 'm8', emoji: '👍', user_id: 'b' }));
    const a = t.items([]);
    // seq 3 is older than the first message held (a gap may be there): not shown yet.
    expect(a.map((i) => i.key)).toEqual(['m5', 'e:6', 'm8', 'e:9']);
    expect(a[1].system?.type).toBe('member.joined');
    expect(a[1].state).toBe('sent');
    const b = t.items([]);
    expect(b[1]).toBe(a[1]);
    // Once the start of the room is held, every line shows; none twice.
    t.addPage([m(1)], false);
    t.addSystem(ev(6, 'member.joined', { user_id: 'b' }));
    expect(t.items([]).map((i) => i.key)).toEqual(['m1', 'e:3', 'm5', 'e:6', 'm8', 'e:9']);
    expect(t.items([], false).map((i) => i.key)).toEqual(['m1', 'm5', 'm8']);
    t.clear();
    expect(t.items([])).toEqual([]);
  });
  it('come before the unsent messages', () => {
    const t = new Timeline('r', () => 'me');
    t.addPage([], false);
    t.apply(ev(1, 'room.updated', { changes: { name: 'X' } }));
    expect(t.items([item('c1', 'hi')]).map((i) => i.key)).toEqual(['e:1', 'c:c1']);
  });
});

describe('pending actions', () => {
  const act = (o: Partial<OutboxItem>): OutboxItem => ({
    client_id: `a${Math.random()}`,
    room_id: 'r',
    body: '',
    created_at: '',
    order: 2,
    state: 'queued',
    ...o,
  });
  it('show a queued edit and my reactions at once, and the server copy is left alone', () => {
    const t = new Timeline('r', () => 'me');
    const base = m(1, { sender_id: 'me', reactions: [{ emoji: '🎉', count: 1, users: ['b'] }] });
    t.addPage([base, m(2)], false);
    const edit = act({ kind: 'edit', message_id: 'm1', body: 'new text' });
    const add = act({ kind: 'react', message_id: 'm1', emoji: '🎉', add: true });
    const add2 = act({ kind: 'react', message_id: 'm1', emoji: '👍', add: true });
    const items = t.items([edit, add, add2]);
    const one = items[0];
    expect(one.message.body).toBe('new text');
    expect(one.message.edited_at).not.toBeNull();
    expect(one.message.reactions).toEqual([
      { emoji: '🎉', count: 2, users: ['b', 'me'] },
      { emoji: '👍', count: 1, users: ['me'] },
    ]);
    expect(one.pending?.map((p) => p.kind)).toEqual(['edit', 'react', 'react']);
    expect(base.body).toBe('b1');
    expect(items[1].pending).toBeUndefined();
    // Same input, same objects (rows are kept).
    const again = t.items([edit, add, add2]);
    expect(again[0].message).toBe(one.message);
    expect(again[0].pendingKey).toBe(one.pendingKey);
  });
  it('a failed action no longer shows, but is listed (for Retry); a queued removal takes my reaction off', () => {
    const t = new Timeline('r', () => 'me');
    t.addPage([m(1, { reactions: [{ emoji: '👍', count: 2, users: ['me', 'b'] }] })], false);
    const failed = act({ kind: 'edit', message_id: 'm1', body: 'nope', state: 'failed', error: 'refused' });
    const remove = act({ kind: 'react', message_id: 'm1', emoji: '👍', add: false });
    const [it] = t.items([failed, remove]);
    expect(it.message.body).toBe('b1');
    expect(it.message.reactions).toEqual([{ emoji: '👍', count: 1, users: ['b'] }]);
    expect(it.pending?.map((p) => p.state)).toEqual(['failed', 'queued']);
    // A queued delete is not a row of its own.
    expect(t.items([act({ kind: 'delete', message_id: 'm1' })]).map((i) => i.key)).toEqual(['m1']);
  });
});

describe('tombstones', () => {
  it('say who deleted a message from its deleted_by, live and from history alike', () => {
    const t = new Timeline('r', () => 'me');
    t.addPage([m(1, { sender_id: 'bob' }), m(2, { sender_id: 'bob' })], false);
    const gone = (seq: number, by: string | null) =>
      m(seq, { sender_id: 'bob', body: '', deleted_at: '2024-01-01T00:01:00Z', deleted_by: by });
    // Live: the event carries the message as it now is.
    t.apply(ev(4, 'message.deleted', { actor_id: 'admin', message: gone(1, 'admin'), message_id: 'm1' }));
    expect(tombstoneText(t.get('m1')!)).toBe('Removed by an admin');
    t.apply(ev(5, 'message.deleted', { actor_id: 'bob', message: gone(2, 'bob'), message_id: 'm2' }));
    expect(tombstoneText(t.get('m2')!)).toBe('Message deleted');
    // History: the page says it without any event.
    t.addPage([gone(3, 'admin')], false);
    expect(tombstoneText(t.get('m3')!)).toBe('Removed by an admin');
    // A retention purge: deleted, by nobody.
    expect(tombstoneText(gone(6, null))).toBe('Message expired');
    // A copy cached before the field existed.
    const old = { ...gone(7, null) } as Partial<Message>;
    delete old.deleted_by;
    expect(tombstoneText(old as Message)).toBe('Message deleted');
  });
});
