// Jumping to a message far back: older pages load (contiguously) until it is held, and stop at
// its seq when it is gone.
import { describe, expect, it } from 'vitest';
import type { Api } from '../src/lib/api';
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
function client(requests: string[]) {
  const all = Array.from({ length: 1000 }, (_, i) => msg(i + 1)).filter((m) => m.seq !== 500);
  const api = {
    get: async (path: string) => {
      requests.push(path);
      const u = new URL(path, 'http://x');
      const limit = Number(u.searchParams.get('limit'));
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

describe('loadUntilHeld', () => {
  it('loads the latest page, then older ones until the message is held', async () => {
    const requests: string[] = [];
    const c = client(requests);
    expect(await c.timelines.loadUntilHeld('r', 'm620', 620)).toBe(true);
    expect(requests.filter((r) => r.includes('/messages'))).toEqual([
      '/rooms/r/messages?limit=50',
      '/rooms/r/messages?before=951&limit=200',
      '/rooms/r/messages?before=751&limit=200',
    ]);
    const seqs = c.timelines
      .get('r')
      .messages()
      .map((m) => m.seq);
    expect(seqs[0]).toBe(551);
    expect(seqs.at(-1)).toBe(1000);
    // Contiguous: no gap between the pages.
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1 || (s === 501 && seqs[i - 1] === 499))).toBe(true);
  });

  it('stops once past the seq of a message that is gone', async () => {
    const requests: string[] = [];
    const c = client(requests);
    expect(await c.timelines.loadUntilHeld('r', 'm500', 500)).toBe(false);
    expect(requests.filter((r) => r.includes('/messages')).length).toBe(4);
  });

  it('a message already held needs no request', async () => {
    const requests: string[] = [];
    const c = client(requests);
    await c.timelines.loadLatest('r');
    requests.length = 0;
    expect(await c.timelines.loadUntilHeld('r', 'm990')).toBe(true);
    expect(requests).toEqual([]);
  });
});
