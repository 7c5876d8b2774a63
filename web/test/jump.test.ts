// Jumping to a message far back: the page around it in one request (?around=), then newer pages
// (?after=) until the live end; live messages in between are left to those pages.
import { describe, expect, it } from 'vitest';
import { type Api, ApiError } from '../src/lib/api';
import type { CacheStore } from '../src/lib/cache';
import { Client } from '../src/lib/client';
import { MemoryOutboxStorage } from '../src/lib/outbox';
import type { Message } from '../src/lib/types';

const msg = (seq: number): Message => ({
  id: `m${seq}`,
  room_id: 'r',
  seq,
  sender_id: 'bob',
  client_id: `c${seq}`,
  body: `b${seq}`,
  reply_to: null,
  forwarded: null,
  mentions: [],
  mentions_room: false,
  pinned: false,
  reactions: [],
  created_at: '2026-01-01T00:00:00Z',
  edited_at: null,
  deleted_at: null,
  deleted_by: null,
  attachments: [],
});

/** A room of 1000 messages (seq 1..1000) without seq 500 (deleted for good). */
const room = () => Array.from({ length: 1000 }, (_, i) => msg(i + 1)).filter((m) => m.seq !== 500);

function client(requests: string[], all = room(), lookups: 'up' | 'down' = 'up') {
  requests.length = 0;
  const api = {
    get: async (path: string) => {
      requests.push(path);
      const u = new URL(path, 'http://x');
      const limit = Number(u.searchParams.get('limit'));
      const one = /\/messages\/(m\d+)$/.exec(u.pathname);
      if (one) {
        const m = all.find((x) => x.id === one[1]);
        if (lookups === 'down') throw new ApiError(503, 'unavailable', 'try again');
        if (!m) throw new ApiError(404, 'not_found', 'no such message');
        return m;
      }
      if (u.searchParams.has('around')) {
        const at = Number(u.searchParams.get('around'));
        const older = all.filter((m) => m.seq <= at).slice(-Math.ceil(limit / 2));
        const newer = all.filter((m) => m.seq > at);
        const half = newer.slice(0, limit - older.length);
        return {
          messages: [...older, ...half],
          has_more: older.length > 0 && all[0].seq < older[0].seq,
          has_newer: newer.length > half.length,
        };
      }
      if (u.searchParams.has('after')) {
        const after = Number(u.searchParams.get('after'));
        const newer = all.filter((m) => m.seq > after);
        return { messages: newer.slice(0, limit), has_more: newer.length > limit };
      }
      const before = Number(u.searchParams.get('before') ?? Infinity);
      const older = all.filter((m) => m.seq < before);
      return { messages: older.slice(-limit), has_more: older.length > limit };
    },
    getToken: async () => 't',
  } as unknown as Api;
  const cache = { load: async () => undefined, save: async () => {}, clear: async () => {} } as CacheStore;
  return new Client({
    api,
    outboxStorage: new MemoryOutboxStorage(),
    cache,
    wsUrl: 'ws://x',
    WebSocketImpl: class {} as unknown as typeof WebSocket,
    isOnline: () => false,
  });
}

const seqs = (c: Client) =>
  c.timelines
    .get('r')
    .messages()
    .map((m) => m.seq);
const ev = (m: Message) => ({ room_id: 'r', seq: m.seq, type: 'message.created', message: m }) as never;

describe('jumping far back', () => {
  it('loads the page around the message in one request', async () => {
    const requests: string[] = [];
    const c = client(requests);
    expect(await c.timelines.loadUntilHeld('r', 'm320', 320)).toBe(true);
    expect(requests.filter((r) => r.includes('/messages'))).toEqual([
      '/rooms/r/messages?limit=50',
      '/rooms/r/messages?around=320&limit=100',
    ]);
    const s = seqs(c);
    expect(s[0]).toBe(271);
    expect(s.at(-1)).toBe(370);
    const t = c.timelines.get('r');
    expect(t.hasMoreBefore).toBe(true);
    expect(t.hasMoreAfter).toBe(true);
    expect(c.timelines.detached('r')).toBe(true);
  });

  it('without its seq (a reply quote, a message URL), it is looked up by id and loaded around', async () => {
    const requests: string[] = [];
    const c = client(requests);
    expect(await c.timelines.loadUntilHeld('r', 'm620')).toBe(true);
    expect(requests.filter((r) => r.includes('/messages'))).toEqual([
      '/rooms/r/messages?limit=50',
      '/rooms/r/messages/m620',
      '/rooms/r/messages?around=620&limit=100',
    ]);
    expect(c.timelines.detached('r')).toBe(true);
  });

  it('a message the lookup does not find is not held, and nothing more is fetched', async () => {
    const requests: string[] = [];
    const c = client(requests);
    expect(await c.timelines.loadUntilHeld('r', 'm500')).toBe(false);
    expect(requests.filter((r) => r.includes('/messages'))).toEqual([
      '/rooms/r/messages?limit=50',
      '/rooms/r/messages/m500',
    ]);
  });

  it('when the lookup fails for another reason, older pages load until it is held', async () => {
    const requests: string[] = [];
    const c = client(requests, room(), 'down');
    expect(await c.timelines.loadUntilHeld('r', 'm620')).toBe(true);
    expect(requests.filter((r) => r.includes('/messages'))).toEqual([
      '/rooms/r/messages?limit=50',
      '/rooms/r/messages/m620',
      '/rooms/r/messages?before=951&limit=200',
      '/rooms/r/messages?before=751&limit=200',
    ]);
    expect(c.timelines.detached('r')).toBe(false);
  });

  it('a message that is gone is not held (its neighbours are)', async () => {
    const requests: string[] = [];
    const c = client(requests);
    expect(await c.timelines.loadUntilHeld('r', 'm500', 500)).toBe(false);
    expect(requests.filter((r) => r.includes('/messages')).length).toBe(2);
  });

  it('a message already held needs no request', async () => {
    const requests: string[] = [];
    const c = client(requests);
    await c.timelines.loadLatest('r');
    requests.length = 0;
    expect(await c.timelines.loadUntilHeld('r', 'm990')).toBe(true);
    expect(requests).toEqual([]);
  });

  it('pages newer messages in until the live end, then follows live messages again', async () => {
    const requests: string[] = [];
    const all = room();
    const c = client(requests, all);
    await c.timelines.loadUntilHeld('r', 'm800', 800);
    const t = c.timelines.get('r');
    // A live message while short of the end: left to the pages.
    const live = msg(1001);
    all.push(live);
    t.apply(ev(live));
    expect(t.get('m1001')).toBeUndefined();
    let pages = 0;
    while (t.hasMoreAfter && pages < 10) {
      await c.timelines.loadNewer('r');
      pages++;
    }
    expect(pages).toBe(2);
    const s = seqs(c);
    expect(s.at(-1)).toBe(1001);
    // Contiguous from the jump to the end.
    expect(s.every((x, i) => i === 0 || x === s[i - 1] + 1)).toBe(true);
    expect(c.timelines.detached('r')).toBe(false);
    const next = msg(1002);
    t.apply(ev(next));
    expect(t.get('m1002')).toBeDefined();
  });

  it('a live message the last page missed costs one more page', async () => {
    const requests: string[] = [];
    const all = room();
    const c = client(requests, all);
    await c.timelines.loadUntilHeld('r', 'm850', 850);
    const t = c.timelines.get('r');
    expect(t.hasMoreAfter).toBe(true);
    // Arrives live (left out), but after the server read the next page.
    t.apply(ev(msg(1001)));
    await c.timelines.loadNewer('r');
    expect(t.hasMoreAfter).toBe(true);
    all.push(msg(1001));
    await c.timelines.loadNewer('r');
    expect(t.hasMoreAfter).toBe(false);
    expect(seqs(c).at(-1)).toBe(1001);
  });

  it('first unread far back: around it, one request', async () => {
    const requests: string[] = [];
    const c = client(requests);
    await c.timelines.loadLatest('r');
    c.rooms.unreadFrom.set('r', 200);
    requests.length = 0;
    const id = await c.timelines.loadToFirstUnread('r');
    expect(id).toBe('m200');
    expect(requests.filter((r) => r.includes('/messages'))).toEqual(['/rooms/r/messages?around=200&limit=100']);
  });

  it('back to the latest from a jump', async () => {
    const requests: string[] = [];
    const c = client(requests);
    await c.timelines.loadUntilHeld('r', 'm100', 100);
    await c.timelines.backToLatest('r');
    expect(seqs(c).at(-1)).toBe(1000);
    expect(c.timelines.detached('r')).toBe(false);
  });
});
