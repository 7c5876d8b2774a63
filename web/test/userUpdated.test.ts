// `user.updated`: a new display name or avatar reaches every place the client keeps the person.
import { describe, expect, it } from 'vitest';
import type { Api } from '../src/lib/api';
import type { CacheStore } from '../src/lib/cache';
import { Client } from '../src/lib/client';
import { MemoryOutboxStorage } from '../src/lib/outbox';
import type { Me, MemberView, Room } from '../src/lib/types';

const bob = { id: 'bob', username: 'bob', display_name: 'Bob', avatar: null };
const me = { id: 'me', username: 'me', display_name: 'Me', avatar: null } as unknown as Me;

function client() {
  const members = [
    { user: bob, role: 'member', read_seq: 0 },
    { user: { ...me }, role: 'owner', read_seq: 0 },
  ] as unknown as MemberView[];
  const api = {
    get: async (path: string) => {
      if (path.endsWith('/members')) return { members };
      throw new Error(`unexpected ${path}`);
    },
    getToken: async () => 't',
  } as unknown as Api;
  const cache = { load: async () => undefined, save: async () => {}, clear: async () => {} } as CacheStore;
  const c = new Client({
    api,
    outboxStorage: new MemoryOutboxStorage(),
    cache,
    wsUrl: 'ws://x',
    WebSocketImpl: class {} as unknown as typeof WebSocket,
    isOnline: () => false,
  });
  c.session.setMe(me);
  const dm = { id: 'dm', kind: 'dm', name: null, dm_peer: bob, last_activity_at: '2026-01-01T00:00:00Z' };
  c.rooms.store.setAll([dm as unknown as Room]);
  c.members.rememberUser(bob);
  return c;
}

describe('user.updated', () => {
  it('renames the person in the users, member lists, DM titles and peers', async () => {
    const c = client();
    await c.members.load('g');
    c.members.userUpdated({ id: 'bob', username: 'bob', display_name: 'Robert', avatar: 'a1' });
    expect(c.members.displayName('bob')).toBe('Robert');
    expect(c.users.get('bob')?.avatar).toBe('a1');
    expect(c.members.get('g')?.find((m) => m.user.id === 'bob')?.user.display_name).toBe('Robert');
    const dm = c.rooms.get('dm')!;
    expect(c.rooms.title(dm)).toBe('Robert');
    expect(dm.dm_peer?.display_name).toBe('Robert');
    expect(dm.dm_peer?.avatar).toBe('a1');
    // Others are left alone.
    expect(c.members.get('g')?.find((m) => m.user.id === 'me')?.user.display_name).toBe('Me');
    expect(c.me?.display_name).toBe('Me');
  });

  it('updates me when it is my own other device', () => {
    const c = client();
    c.members.userUpdated({ id: 'me', username: 'me', display_name: 'New me', avatar: null });
    expect(c.me?.display_name).toBe('New me');
    expect(c.members.displayName('me')).toBe('New me');
  });

  it('a frame for someone not yet known remembers them', () => {
    const c = client();
    c.members.userUpdated({ id: 'zoe', username: 'zoe', display_name: 'Zoe', avatar: null });
    expect(c.members.displayName('zoe')).toBe('Zoe');
  });
});
