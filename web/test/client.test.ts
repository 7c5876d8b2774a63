// The view model's reactivity: a change re-runs only what read the part that changed (the views
// used to re-render on one global tick).
import { createEffect, createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import type { Api } from '../src/lib/api';
import type { CacheSnapshot, CacheStore } from '../src/lib/cache';
import { Client } from '../src/lib/client';
import { MemoryOutboxStorage } from '../src/lib/outbox';
import type { Message, Room, RoomEvent } from '../src/lib/types';

/** The cache in memory: the client under test keeps its snapshot here instead of IndexedDB. */
class MemoryCache implements CacheStore {
  snap: CacheSnapshot | undefined;
  async load() {
    return this.snap && structuredClone(this.snap);
  }
  async save(s: CacheSnapshot) {
    this.snap = structuredClone(s);
  }
  async clear() {
    this.snap = undefined;
  }
}

const room = (id: string): Room => ({
  id,
  kind: 'group',
  name: id,
  topic: null,
  avatar: null,
  slow_mode_seconds: 0,
  retention_days: null,
  created_by: 'me',
  created_at: '2026-01-01T00:00:00Z',
  last_seq: 1,
  last_activity_at: '2026-01-01T00:00:00Z',
  only_admins_post: false,
  permissions: { invite: 'admin', pin: 'admin', mention_room: 'admin' },
  member_count: 2,
  unread: 0,
  mentions: 0,
});
const message = (roomId: string, seq: number, sender = 'bob'): Message => ({
  id: `${roomId}-m${seq}`,
  room_id: roomId,
  seq,
  sender_id: sender,
  client_id: `c${seq}`,
  body: `hello ${seq}`,
  reply_to: null,
  forwarded: null,
  mentions: [],
  mentions_room: false,
  pinned: false,
  reactions: [],
  created_at: `2026-01-01T00:00:0${seq}Z`,
  edited_at: null,
  deleted_at: null,
  deleted_by: null,
  attachments: [],
});
const created = (m: Message): RoomEvent => ({
  room_id: m.room_id,
  seq: m.seq,
  type: 'message.created',
  actor_id: m.sender_id,
  created_at: m.created_at,
  message: m,
});

function client() {
  const api = {
    get: async (path: string) => {
      const m = /^\/rooms\/([^/]+)\/messages/.exec(path);
      if (m) return { messages: [message(m[1], 1)], has_more: false };
      if (/^\/rooms\/[^/]+\/members/.test(path)) return { members: [] };
      throw new Error(`unexpected GET ${path}`);
    },
    post: async () => ({}),
    getToken: async () => 't',
    tokenExpiresAt: 0,
  } as unknown as Api;
  const c = new Client({
    api,
    outboxStorage: new MemoryOutboxStorage(),
    cache: new MemoryCache(),
    wsUrl: 'ws://x',
    WebSocketImpl: class {} as unknown as typeof WebSocket,
    isOnline: () => false,
  });
  c.session.setMe({ id: 'me', username: 'me', display_name: 'Me', avatar: null, created_at: '', updated_at: '' });
  c.rooms.store.setAll([room('r1'), room('r2')]);
  return c;
}

describe('client reactivity', () => {
  it('a message updates its own timeline, room entry and typing line only', async () => {
    const c = client();
    await c.timelines.loadLatest('r1');
    await c.timelines.loadLatest('r2');
    const runs = { r1: 0, r2: 0, typing1: 0, room2: 0, list: 0, banner: 0 };
    const dispose = createRoot((done) => {
      createEffect(() => {
        c.timelines.items('r1');
        runs.r1++;
      });
      createEffect(() => {
        c.timelines.items('r2');
        runs.r2++;
      });
      createEffect(() => {
        c.typing.names('r1');
        runs.typing1++;
      });
      createEffect(() => {
        c.rooms.get('r2')?.unread;
        runs.room2++;
      });
      createEffect(() => {
        c.rooms.list();
        runs.list++;
      });
      createEffect(() => {
        c.conn;
        c.timelines.waiting();
        runs.banner++;
      });
      return done;
    });
    expect(runs).toEqual({ r1: 1, r2: 1, typing1: 1, room2: 1, list: 1, banner: 1 });

    c.sync.onEvent(created(message('r1', 2)));
    expect(
      c.timelines
        .get('r1')
        .messages()
        .map((m) => m.seq),
    ).toEqual([1, 2]);
    expect(runs).toEqual({ r1: 2, r2: 1, typing1: 1, room2: 1, list: 2, banner: 1 });

    c.typing.received('r1', 'carol', true);
    expect(c.typing.names('r1')).toEqual(['Someone']);
    expect(runs).toEqual({ r1: 2, r2: 1, typing1: 2, room2: 1, list: 2, banner: 1 });

    c.sync.onEvent(created(message('r2', 2)));
    expect(c.rooms.get('r2')?.unread).toBe(1);
    expect(runs).toEqual({ r1: 2, r2: 2, typing1: 2, room2: 2, list: 3, banner: 1 });
    dispose();
  });

  it('keeps message objects across unrelated updates (rows are kept)', async () => {
    const c = client();
    await c.timelines.loadLatest('r1');
    const first = c.timelines.items('r1')[0].message;
    c.sync.onEvent(created(message('r1', 2)));
    expect(c.timelines.items('r1')[0].message).toBe(first);
  });
});
