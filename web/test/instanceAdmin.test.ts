// Instance admins in the client: whether I am one (kept when an answer leaves it out), whom
// "Suspend account…" is offered on, the requests it makes, and the refusals said in words.
import { describe, expect, it } from 'vitest';
import { type Api, ApiError } from '../src/lib/api';
import type { CacheSnapshot, CacheStore } from '../src/lib/cache';
import { Client } from '../src/lib/client';
import { instanceBanError } from '../src/lib/moderation';
import { MemoryOutboxStorage } from '../src/lib/outbox';
import type { Me } from '../src/lib/types';

class MemoryCache implements CacheStore {
  async load(): Promise<CacheSnapshot | undefined> {
    return undefined;
  }
  async save() {}
  async clear() {}
}

const me = (o: Partial<Me> = {}): Me =>
  ({ id: 'me', username: 'me', display_name: 'Me', avatar: null, created_at: '', updated_at: '', ...o }) as Me;

function client() {
  const calls: { method: string; path: string; body?: unknown }[] = [];
  const api = {
    request: async (method: string, path: string, body?: unknown) => {
      calls.push({ method, path, body });
      return undefined;
    },
    del: async (path: string) => {
      calls.push({ method: 'DELETE', path });
    },
    get: async (path: string) => {
      calls.push({ method: 'GET', path });
      if (path.startsWith('/admin/reports'))
        return { reports: [], rooms: [{ id: 'r9', kind: 'group', name: 'Elsewhere' }] };
      if (path === '/users/me') return me({ instance_admin: true });
      throw new Error(`unexpected GET ${path}`);
    },
    post: async (path: string, body: unknown) => {
      calls.push({ method: 'POST', path, body });
      return { id: 'b1', cidr: '127.0.0.1/32', reason: null, created_by: 'me', created_at: '' };
    },
    getToken: async () => 't',
  } as unknown as Api;
  const c = new Client({
    api,
    outboxStorage: new MemoryOutboxStorage(),
    cache: new MemoryCache(),
    wsUrl: 'ws://x',
    WebSocketImpl: class {} as unknown as typeof WebSocket,
    isOnline: () => false,
  });
  return { c, calls };
}

describe('instance admins', () => {
  it('knows from the sign-in answer, and keeps it when a later answer leaves it out', () => {
    const { c } = client();
    expect(c.moderation.isInstanceAdmin()).toBe(false);
    c.session.setMe(me({ instance_admin: true }));
    expect(c.moderation.isInstanceAdmin()).toBe(true);
    // PATCH /users/me answers without the field.
    c.session.setMe(me({ display_name: 'New name', instance_admin: null }));
    expect(c.moderation.isInstanceAdmin()).toBe(true);
    // Someone else signing in does not inherit it.
    c.session.setMe(me({ id: 'other' }));
    expect(c.moderation.isInstanceAdmin()).toBe(false);
    c.session.setMe(me({ instance_admin: false }));
    expect(c.moderation.isInstanceAdmin()).toBe(false);
  });

  it('offers Suspend on others only, and not again on someone the server says is an admin', () => {
    const { c } = client();
    c.session.setMe(me({ instance_admin: true }));
    expect(c.moderation.maySuspend('me')).toBe(false);
    expect(c.moderation.maySuspend('bob')).toBe(true);
    c.moderation.noteAdmin('bob');
    expect(c.moderation.maySuspend('bob')).toBe(false);
    c.moderation.reset();
    c.session.setMe(me({ instance_admin: false }));
    expect(c.moderation.maySuspend('carol')).toBe(false);
  });

  it('suspends with a JSON body, reinstates and lifts blocks with the reason in the query', async () => {
    const { c, calls } = client();
    await c.moderation.suspend('u1', ' spam run ', ' 203.0.113.0/24 ');
    await c.moderation.suspend('u2');
    await c.moderation.reinstate('u1', 'appeal upheld');
    await c.moderation.blockSignups(' 127.0.0.1 ', '');
    await c.moderation.unblockSignups('b1');
    expect(calls).toEqual([
      {
        method: 'PUT',
        path: '/admin/suspensions/u1',
        body: { reason: 'spam run', block_signups_from: '203.0.113.0/24' },
      },
      { method: 'PUT', path: '/admin/suspensions/u2', body: { reason: undefined, block_signups_from: undefined } },
      { method: 'DELETE', path: '/admin/suspensions/u1?reason=appeal%20upheld' },
      { method: 'POST', path: '/admin/signup-blocks', body: { cidr: '127.0.0.1', reason: undefined } },
      { method: 'DELETE', path: '/admin/signup-blocks/b1' },
    ]);
  });

  it('remembers the rooms the instance report queue names', async () => {
    const { c } = client();
    await c.moderation.reports(null, true);
    expect(c.moderation.reportRooms.get('r9')?.name).toBe('Elsewhere');
  });

  it('says refusals in words, the range ones next to the field', () => {
    expect(instanceBanError(new ApiError(422, 'too_wide', 'the range is too wide'))).toEqual({
      text: 'That range is too wide: at most a /8 of IPv4 or a /16 of IPv6.',
      extra: true,
    });
    expect(instanceBanError(new ApiError(409, 'already_blocked', 'x')).extra).toBe(true);
    expect(instanceBanError(new ApiError(422, 'invalid', 'x')).extra).toBe(true);
    expect(instanceBanError(new ApiError(403, 'cannot_suspend_admin', 'x')).text).toMatch(/cannot be suspended/);
    expect(instanceBanError(new ApiError(422, 'too_long', 'reason is too long')).text).toBe('Reason is too long.');
  });
});
