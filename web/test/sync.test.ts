import { describe, expect, it } from 'vitest';
import { Sync } from '../src/lib/sync';
import type { EventsPage, RoomEvent } from '../src/lib/types';

const ev = (seq: number, room = 'r'): RoomEvent => ({
  room_id: room,
  seq,
  type: 'message.created',
  actor_id: 'a',
  created_at: '',
});

function server(lastSeq: number, pageSize = 3) {
  const calls: number[] = [];
  let gate: Promise<void> = Promise.resolve();
  return {
    calls,
    hold() {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return open;
    },
    async fetchEvents(_room: string, after: number): Promise<EventsPage> {
      calls.push(after);
      await gate;
      const events: RoomEvent[] = [];
      for (let s = after + 1; s <= Math.min(lastSeq, after + pageSize); s++) events.push(ev(s));
      return { events, has_more: after + pageSize < lastSeq, last_seq: lastSeq };
    },
  };
}

describe('sync', () => {
  it('applies in-order events, ignores duplicates', () => {
    const applied: number[] = [];
    const s = new Sync({ fetchEvents: () => Promise.reject(new Error('no')), apply: (e) => applied.push(e.seq) });
    s.setHave('r', 1);
    s.onEvent(ev(2));
    s.onEvent(ev(2));
    s.onEvent(ev(1));
    s.onEvent(ev(3));
    expect(applied).toEqual([2, 3]);
  });

  it('detects a gap, fetches pages until has_more is false, buffers live events meanwhile', async () => {
    const srv = server(9);
    const applied: number[] = [];
    const s = new Sync({ fetchEvents: (r, a) => srv.fetchEvents(r, a), apply: (e) => applied.push(e.seq) });
    s.setHave('r', 2);
    const open = srv.hold();
    s.onEvent(ev(5)); // gap: 3 and 4 missing
    expect(s.isCatchingUp('r')).toBe(true);
    s.onEvent(ev(10)); // arrives during catch-up: buffered
    s.onEvent(ev(6)); // duplicate of what the fetch returns
    open();
    await s.catchUp('r');
    expect(srv.calls).toEqual([2, 5, 8]);
    expect(applied).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.have.get('r')).toBe(10);
  });

  it('on ready: catches up rooms that moved, drops rooms that are gone, resets unknown ones', async () => {
    const srv = server(4);
    const applied: number[] = [];
    const dropped: string[] = [];
    const reset: string[] = [];
    const s = new Sync({
      fetchEvents: (r, a) => srv.fetchEvents(r, a),
      apply: (e) => applied.push(e.seq),
      dropRoom: (id) => dropped.push(id),
      resetRoom: (id) => reset.push(id),
    });
    s.setHave('r', 1);
    s.setHave('gone', 3);
    await s.onReady([
      { id: 'r', last_seq: 4 },
      { id: 'new', last_seq: 7 },
    ]);
    expect(applied).toEqual([2, 3, 4]);
    expect(dropped).toEqual(['gone']);
    expect(reset).toEqual(['new']);
    expect(s.have.get('new')).toBe(7);
  });

  it('retries on the next ready after a failed catch-up', async () => {
    let fail = true;
    const srv = server(3);
    const applied: number[] = [];
    const s = new Sync({
      fetchEvents: (r, a) => (fail ? Promise.reject(new Error('offline')) : srv.fetchEvents(r, a)),
      apply: (e) => applied.push(e.seq),
    });
    s.setHave('r', 0);
    await s.onReady([{ id: 'r', last_seq: 3 }]);
    expect(applied).toEqual([]);
    fail = false;
    await s.onReady([{ id: 'r', last_seq: 3 }]);
    expect(applied).toEqual([1, 2, 3]);
  });
});
