// Response hygiene: every response the client gets is read or its body cancelled, including the
// 401 of a refresh at sign-out, a 204, an error that is not JSON and a refused config.
import { describe, expect, it } from 'vitest';
import { Api } from '../src/lib/api';
import { fetchConfig } from '../src/lib/ai';

/** A response whose body reports whether it was read to the end or cancelled. */
function tracked(status: number, text: string | null, log: string[], name: string): Response {
  const body =
    text === null
      ? null
      : new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(text));
          },
          pull(c) {
            log.push(`${name}:read`);
            c.close();
          },
          cancel() {
            log.push(`${name}:cancelled`);
          },
        });
  return new Response(body, { status, headers: { 'content-type': 'application/json' } });
}

const settled = (log: string[], names: string[]) => {
  for (const n of names)
    expect(
      log.some((l) => l === `${n}:read` || l === `${n}:cancelled`),
      n,
    ).toBe(true);
};

describe('response bodies', () => {
  it('a refused refresh (401) has its body cancelled', async () => {
    const log: string[] = [];
    const api = new Api({
      fetch: async () => tracked(401, '{"error":{"code":"invalid_token","message":"no"}}', log, 'refresh'),
    });
    expect(await api.refresh()).toBe(false);
    settled(log, ['refresh']);
  });

  it('a 204, a non-JSON error and a JSON error are all read or cancelled', async () => {
    const log: string[] = [];
    const answers: Response[] = [];
    const api = new Api({ fetch: async () => answers.shift()! });
    answers.push(tracked(200, '{"access_token":"t","expires_in":900,"user":{},"session_id":"s"}', log, 'login'));
    await api.login('a', 'b');
    answers.push(tracked(204, null, log, 'none'));
    await api.del('/x');
    answers.push(tracked(502, '<html>bad gateway</html>', log, 'html'));
    await expect(api.get('/x')).rejects.toMatchObject({ status: 502 });
    answers.push(tracked(404, '{"error":{"code":"not_found","message":"room not found"}}', log, 'json'));
    await expect(api.get('/x')).rejects.toMatchObject({ code: 'not_found' });
    settled(log, ['login', 'html', 'json']);
  });

  it('a config the server refuses is cancelled', async () => {
    const log: string[] = [];
    const cfg = await fetchConfig(async () => tracked(500, 'oops', log, 'config'));
    expect(cfg.ai.enabled).toBe(false);
    settled(log, ['config']);
  });
});
