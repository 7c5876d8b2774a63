// Invitations (lib/client/invitations.ts) and adds that became invitations (members.add, createGroup).
import { describe, expect, it } from 'vitest';
import { type Api, ApiError } from '../src/lib/api';
import type { CacheStore } from '../src/lib/cache';
import { Client } from '../src/lib/client';
import { MemoryOutboxStorage } from '../src/lib/outbox';
import type { Invitation, Room } from '../src/lib/types';

const cache: CacheStore = { load: async () => undefined, save: async () => {}, clear: async () => {} };

const room = (id: string): Room => ({
  id,
  kind: 'group',
  name: id,
  topic: null,
  avatar: null,
  slow_mode_seconds: 0,
  retention_days: null,
  created_by: 'ann',
  created_at: '2026-01-01T00:00:00Z',
  last_seq: 3,
  last_activity_at: '2026-01-01T00:00:00Z',
  only_admins_post: false,
  permissions: { invite: 'admin', pin: 'admin', mention_room: 'admin' },
  member_count: 2,
  unread: 0,
  mentions: 0,
});
const invitation = (roomId: string): Invitation => ({
  room_id: roomId,
  room_name: `Group ${roomId}`,
  room_avatar: null,
  member_count: 3,
  invited_by: { id: 'ann', username: 'ann', display_name: 'Ann', avatar: null },
  created_at: '2026-01-01T00:00:00Z',
});

function client(server: { invitations: Invitation[]; addStatus?: Record<string, number> }) {
  const calls: string[] = [];
  const api = {
    get: async (path: string) => {
      calls.push(`GET ${path}`);
      if (path === '/invitations') return { invitations: server.invitations };
      if (/^\/rooms\/[^/]+\/members/.test(path)) return { members: [] };
      if (/^\/rooms\/[^/]+\/messages/.test(path)) return { messages: [], has_more: false };
      throw new Error(`unexpected GET ${path}`);
    },
    post: async (path: string, body?: { user_id?: string }) => {
      calls.push(`POST ${path}`);
      const accept = /^\/invitations\/([^/]+)\/accept$/.exec(path);
      if (accept) {
        server.invitations = server.invitations.filter((i) => i.room_id !== accept[1]);
        return room(accept[1]);
      }
      if (path === '/rooms') return { ...room('new'), my_role: 'owner' };
      if (/^\/rooms\/[^/]+\/members$/.test(path)) {
        const st = server.addStatus?.[body?.user_id ?? ''] ?? 201;
        if (st === 409) throw new ApiError(409, 'already_invited', 'already invited');
        return st === 202 ? { status: 'invited' } : undefined;
      }
      throw new Error(`unexpected POST ${path}`);
    },
    del: async (path: string) => {
      calls.push(`DELETE ${path}`);
      const id = path.split('/').pop();
      server.invitations = server.invitations.filter((i) => i.room_id !== id);
    },
    getToken: async () => 't',
    tokenExpiresAt: 0,
  } as unknown as Api;
  const c = new Client({
    api,
    outboxStorage: new MemoryOutboxStorage(),
    cache,
    wsUrl: 'ws://x',
    WebSocketImpl: class {} as unknown as typeof WebSocket,
    isOnline: () => false,
  });
  c.session.setMe({ id: 'me', username: 'me', display_name: 'Me', avatar: null, created_at: '', updated_at: '' });
  return { c, calls };
}

describe('invitations', () => {
  it('loads the list, and accepting lists and tracks the room and drops the invitation', async () => {
    const server = { invitations: [invitation('g1'), invitation('g2')] };
    const { c } = client(server);
    await c.invitations.load();
    expect(c.invitations.list().map((i) => i.room_id)).toEqual(['g1', 'g2']);
    expect(c.members.displayName('ann')).toBe('Ann');
    expect(await c.invitations.accept('g1')).toBe('g1');
    expect(c.rooms.has('g1')).toBe(true);
    expect(c.sync.have.get('g1')).toBe(3);
    expect(c.invitations.list().map((i) => i.room_id)).toEqual(['g2']);
  });

  it('declining drops it; a load that started before the answer does not bring it back', async () => {
    const server = { invitations: [invitation('g1')] };
    const { c, calls } = client(server);
    await c.invitations.load();
    const stale = c.invitations.load(); // answered with g1 still pending on the server
    await c.invitations.decline('g1');
    await stale;
    expect(c.invitations.list()).toEqual([]);
    expect(calls).toContain('DELETE /invitations/g1');
    expect(c.rooms.has('g1')).toBe(false);
  });

  it('sign-out forgets them', async () => {
    const { c } = client({ invitations: [invitation('g1')] });
    await c.invitations.load();
    c.invitations.reset();
    expect(c.invitations.list()).toEqual([]);
  });

  it('an add answered 202 is an invitation (no member reload); 409 already_invited is thrown', async () => {
    const { c, calls } = client({ invitations: [], addStatus: { bo: 202, cy: 409 } });
    expect(await c.members.add('r1', 'al')).toBe('added');
    expect(calls.filter((x) => x.startsWith('GET /rooms/r1/members')).length).toBe(1);
    expect(await c.members.add('r1', 'bo')).toBe('invited');
    expect(calls.filter((x) => x.startsWith('GET /rooms/r1/members')).length).toBe(1);
    await expect(c.members.add('r1', 'cy')).rejects.toMatchObject({ code: 'already_invited' });
  });

  it('New group: the people invited instead are told apart from those who could not be added', async () => {
    const { c } = client({ invitations: [], addStatus: { bo: 202, cy: 409 } });
    const r = await c.rooms.createGroup('G', '', ['al', 'bo', 'cy']);
    expect(r).toEqual({ roomId: 'new', invited: ['bo'], failed: ['cy'] });
  });
});
