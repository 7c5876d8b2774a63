import { describe, expect, it } from 'vitest';
import { Api } from '../src/lib/api';

const auth = (token: string) => ({
  access_token: token,
  expires_in: 600,
  expires_at: '',
  session_id: 's',
  user: { id: 'u', username: 'ada', display_name: 'Ada' },
});
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('api token refresh', () => {
  it('concurrent 401s trigger exactly one refresh, then each request is retried once', async () => {
    let refreshes = 0;
    let valid = 'old';
    const fetchFn = async (url: RequestInfo | URL, init?: RequestInit) => {
      const u = String(url);
      await new Promise((r) => setTimeout(r, 2));
      if (u.endsWith('/auth/refresh')) {
        refreshes++;
        valid = `new${refreshes}`;
        return json(200, auth(valid));
      }
      const h = (init?.headers ?? {}) as Record<string, string>;
      if (h.Authorization !== `Bearer ${valid}`) return json(401, { error: { code: 'token_expired', message: 'x' } });
      return json(200, { ok: u });
    };
    const api = new Api({ fetch: fetchFn as typeof fetch });
    await api.resume();
    expect(refreshes).toBe(1);
    valid = 'rotated-by-server'; // the in-memory token is now expired
    const results = await Promise.all([api.get('/a'), api.get('/b'), api.get('/c'), api.get('/d')]);
    expect(results.length).toBe(4);
    expect(refreshes).toBe(2);
  });

  it('a refused refresh logs out', async () => {
    let out = 0;
    const api = new Api({
      fetch: (async () => json(401, { error: { code: 'invalid_refresh_token', message: 'x' } })) as typeof fetch,
      onLoggedOut: () => out++,
    });
    expect(await api.resume()).toBeNull();
    expect(out).toBe(1);
  });

  it('a network failure on resume is reported as offline, not logged out', async () => {
    const api = new Api({
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
    });
    expect(await api.resume()).toBe('offline');
  });
});
