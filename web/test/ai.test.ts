import { createEffect, createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { AiStreams, botBody, AI_PLACEHOLDER } from '../src/lib/aiStream';
import {
  TranslationCache,
  shouldAutoTranslate,
  showsTranslation,
  translationKey,
  type Translation,
} from '../src/lib/aiTranslate';
import { aiErrorMessage } from '../src/lib/aiErrors';
import { ApiError } from '../src/lib/api';
import { AiService, fetchConfig } from '../src/lib/ai';
import type { Client } from '../src/lib/client';
import type { MemberView, Message, PublicUser } from '../src/lib/types';

const d = (index: number, delta: string, message_id = 'b1') => ({ room_id: 'r', message_id, index, delta });

describe('ai.delta assembly', () => {
  it('appends deltas in index order, whatever order they arrive in', () => {
    const s = new AiStreams();
    expect(s.add(d(0, 'Action '))).toBe(true);
    expect(s.add(d(2, 'ship'))).toBe(false); // waits for 1
    expect(s.preview('b1')).toBe('Action ');
    expect(s.hasGap('b1')).toBe(true);
    expect(s.add(d(1, 'items: '))).toBe(true);
    expect(s.preview('b1')).toBe('Action items: ship');
    expect(s.hasGap('b1')).toBe(false);
  });

  it('ignores duplicates and malformed frames', () => {
    const s = new AiStreams();
    s.add(d(0, 'a'));
    expect(s.add(d(0, 'a'))).toBe(false);
    expect(s.add({ room_id: 'r', message_id: 'b1', index: -1, delta: 'x' })).toBe(false);
    expect(s.add({ room_id: 'r', message_id: 'b1', index: 1.5, delta: 'x' })).toBe(false);
    expect(s.add({ room_id: 'r', message_id: 'b1', index: 1, delta: 7 as unknown as string })).toBe(false);
    expect(s.add(null as never)).toBe(false);
    expect(s.preview('b1')).toBe('a');
  });

  it('keeps streams apart and forgets a settled one', () => {
    const s = new AiStreams();
    s.add(d(0, 'one', 'm1'));
    s.add(d(0, 'two', 'm2'));
    expect([s.preview('m1'), s.preview('m2')]).toEqual(['one', 'two']);
    s.settle('m1');
    expect(s.preview('m1')).toBeUndefined();
    expect(s.size).toBe(1);
  });

  it('keeps only the newest streams', () => {
    const s = new AiStreams(2);
    for (const id of ['a', 'b', 'c']) s.add(d(0, id, id));
    expect(s.size).toBe(2);
    expect(s.preview('a')).toBeUndefined();
    expect(s.preview('c')).toBe('c');
  });

  it('the final edit replaces the preview', () => {
    const placeholder = { body: AI_PLACEHOLDER, edited_at: null, deleted_at: null };
    expect(botBody(placeholder, undefined)).toEqual({ text: '', streaming: true });
    expect(botBody(placeholder, 'Hel')).toEqual({ text: 'Hel', streaming: true });
    expect(botBody({ body: 'Hello there', edited_at: '2026-11-25T10:00:00Z', deleted_at: null }, 'Hel')).toEqual({
      text: 'Hello there',
      streaming: false,
    });
    expect(
      botBody({ body: '⚠️ The AI provider failed', edited_at: '2026-11-25T10:00:00Z', deleted_at: null }, undefined)
        .streaming,
    ).toBe(false);
    expect(botBody({ body: 'an old normal message', edited_at: null, deleted_at: null }, undefined).streaming).toBe(
      false,
    );
  });
});

const msg = (over: Partial<Message> = {}): Message => ({
  id: 'm1',
  room_id: 'r',
  seq: 1,
  sender_id: 'bob',
  client_id: 'c',
  body: 'Hallo Welt',
  reply_to: null,
  forwarded: null,
  mentions: [],
  mentions_room: false,
  pinned: false,
  reactions: [],
  created_at: '2026-11-25T10:00:00Z',
  edited_at: null,
  deleted_at: null,
  deleted_by: null,
  attachments: [],
  ...over,
});
const tr = (text: string, lang = 'en'): Translation => ({ message_id: 'm1', lang, text, cached: false });

describe('translation cache', () => {
  it('one request per (message, version, language), shared by concurrent callers', async () => {
    const c = new TranslationCache();
    let loads = 0;
    const load = () => {
      loads++;
      return new Promise<Translation>((r) => setTimeout(() => r(tr('Hello world')), 5));
    };
    const [a, b] = await Promise.all([c.fetch(msg(), 'en', load), c.fetch(msg(), 'EN', load)]);
    expect(loads).toBe(1);
    expect(a).toBe(b);
    await c.fetch(msg(), 'en', load);
    expect(loads).toBe(1);
    expect(c.get(msg(), 'en')?.text).toBe('Hello world');
    // An edit is a new version; another language is another entry.
    await c.fetch(msg({ edited_at: '2026-11-25T11:00:00Z', body: 'Hallo Leute' }), 'en', load);
    await c.fetch(msg(), 'fr', load);
    expect(loads).toBe(3);
    expect(translationKey(msg(), 'pt-BR')).toBe('m1|2026-11-25T10:00:00Z|pt-br');
  });

  it('does not cache failures', async () => {
    const c = new TranslationCache();
    let n = 0;
    const load = async () => {
      if (n++ === 0) throw new ApiError(503, 'ai_busy', 'busy');
      return tr('ok');
    };
    await expect(c.fetch(msg(), 'en', load)).rejects.toThrow('busy');
    expect((await c.fetch(msg(), 'en', load)).text).toBe('ok');
    expect(n).toBe(2);
  });

  it('evicts the oldest entries beyond its size', async () => {
    const c = new TranslationCache(2);
    for (const id of ['a', 'b', 'c']) await c.fetch(msg({ id }), 'en', async () => tr(id));
    expect(c.size).toBe(2);
    expect(c.get(msg({ id: 'a' }), 'en')).toBeUndefined();
    expect(c.get(msg({ id: 'c' }), 'en')?.text).toBe('c');
  });

  it('shows a translation only when it differs from the original', () => {
    expect(showsTranslation('Hallo', tr('Hello'))).toBe(true);
    expect(showsTranslation('Hello', tr(' Hello '))).toBe(false);
    expect(showsTranslation('Hello', tr(''))).toBe(false);
    expect(showsTranslation('Hello', undefined)).toBe(false);
  });
});

describe('auto-translate decision', () => {
  const base = {
    serverAi: true,
    roomAi: true,
    autoTranslate: true,
    preferredLanguage: 'de',
    meId: 'me',
    botId: 'bot',
    message: msg({ body: 'Hello there' }),
  };
  it("translates someone else's words when opted in with AI on", () => {
    expect(shouldAutoTranslate(base)).toBe(true);
  });
  it.each([
    ['server AI off', { serverAi: false }],
    ['room AI off', { roomAi: false }],
    ['not opted in', { autoTranslate: false }],
    ['no language', { preferredLanguage: null }],
    ['blank language', { preferredLanguage: '  ' }],
    ['own message', { message: msg({ sender_id: 'me' }) }],
    ['the assistant', { message: msg({ sender_id: 'bot' }) }],
    ['deleted', { message: msg({ deleted_at: '2026-11-25T12:00:00Z' }) }],
    ['emoji and numbers only', { message: msg({ body: '👍 123 !!' }) }],
    ['a bare link', { message: msg({ body: 'https://example.com/a?b=c' }) }],
  ])('not for: %s', (_n, over) => {
    expect(shouldAutoTranslate({ ...base, ...over })).toBe(false);
  });
});

describe('AI error messages', () => {
  it.each([
    ['ai_disabled', 404, 'not available on this server'],
    ['ai_not_enabled', 403, 'off in this room'],
    ['ai_budget_exceeded', 429, 'limit for today'],
    ['ai_busy', 503, 'busy'],
    ['ai_unavailable', 503, 'not answering'],
    ['ai_rate_limited', 503, 'rate limiting'],
    ['ai_timeout', 504, 'too long'],
    ['ai_upstream_error', 502, 'provider failed'],
    ['no_language', 422, 'preferred language'],
  ])('%s', (code, status, text) => {
    expect(aiErrorMessage(new ApiError(status, code, 'raw'))).toContain(text);
  });
  it('unknown server errors and non-API errors get a generic sentence', () => {
    expect(aiErrorMessage(new ApiError(500, 'internal', 'boom'))).toMatch(/failed on the server/);
    expect(aiErrorMessage(new ApiError(400, 'odd', 'Odd request'))).toBe('Odd request');
    expect(aiErrorMessage(new Error('x'))).toBe('The AI request failed.');
  });
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('server config', () => {
  it('reads AI on with its features', async () => {
    const f = (async () =>
      json(200, { ai: { enabled: true, features: ['translate', 'summary'] } })) as unknown as typeof fetch;
    expect(await fetchConfig(f)).toEqual({
      ai: { enabled: true, features: ['translate', 'summary'] },
      retention_days: null,
    });
  });
  it("reads the server's retention, and only a number", async () => {
    const days = (v: unknown) =>
      (async () => json(200, { ai: { enabled: false, features: [] }, retention_days: v })) as unknown as typeof fetch;
    expect((await fetchConfig(days(30))).retention_days).toBe(30);
    expect((await fetchConfig(days(null))).retention_days).toBe(null);
    expect((await fetchConfig(days('30'))).retention_days).toBe(null);
  });
  it('treats off, errors and garbage as off', async () => {
    for (const f of [
      async () => json(200, { ai: { enabled: false, features: ['translate'] } }),
      async () => json(500, {}),
      async () => json(200, { ai: 'yes' }),
      async () => {
        throw new TypeError('offline');
      },
    ])
      expect((await fetchConfig(f as unknown as typeof fetch)).ai.enabled).toBe(false);
  });
});

// A stand-in for the Client with just what AiService uses; requests are recorded.
function fakeClient(answers: Record<string, (body: unknown) => unknown>) {
  const calls: { method: string; path: string; body?: unknown }[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    calls.push({ method, path, body });
    const a = answers[`${method} ${path}`];
    if (!a) throw new ApiError(404, 'not_found', 'no such thing');
    return a(body);
  };
  const c = {
    me: { id: 'me', username: 'me', display_name: 'Me' },
    users: new Map<string, PublicUser>(),
    members: new Map<string, MemberView[]>(),
    onAiDelta: null as ((d: unknown) => void) | null,
    loadMembers: async () => [],
    api: {
      get: (p: string) => call('GET', p),
      post: (p: string, b?: unknown) => call('POST', p, b),
      patch: (p: string, b: unknown) => call('PATCH', p, b),
    },
  };
  return { c: c as unknown as Client & typeof c, calls };
}
const cfg = (async () =>
  json(200, {
    ai: { enabled: true, features: ['translate', 'assistant', 'summary', 'suggestions'] },
  })) as unknown as typeof fetch;
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('AiService', () => {
  it('loads config and preferences, and saves preferences on the server', async () => {
    const { c, calls } = fakeClient({
      'GET /users/me': () => ({ id: 'me', ai: { preferred_language: 'de', auto_translate: false } }),
      'PATCH /users/me': (b) => ({
        id: 'me',
        ai: { preferred_language: 'de', auto_translate: (b as { auto_translate: boolean }).auto_translate },
      }),
    });
    const ai = new AiService(c, cfg);
    await ai.load();
    expect(ai.enabled).toBe(true);
    expect(ai.prefs.preferred_language).toBe('de');
    expect(ai.targetLanguage()).toBe('de');
    await ai.setPrefs({ auto_translate: true });
    expect(calls.at(-1)).toEqual({ method: 'PATCH', path: '/users/me', body: { auto_translate: true } });
    expect(ai.prefs.auto_translate).toBe(true);
  });

  it("room AI follows the assistant's membership once members are known", async () => {
    const { c } = fakeClient({
      'GET /users/me': () => ({ id: 'me' }),
      'GET /rooms/r/ai': () => ({ room_id: 'r', ai_enabled: true }),
    });
    const ai = new AiService(c, cfg);
    await ai.load();
    expect(ai.roomEnabled('r')).toBeUndefined();
    expect(await ai.refreshRoom('r')).toBe(true);
    expect(ai.roomEnabled('r')).toBe(true);
    const member = (username: string): MemberView => ({
      user: { id: username, username, display_name: '', avatar: null },
      role: 'member',
      joined_at: '',
      read_seq: 0,
      muted_until: null,
    });
    c.members.set('r', [member('me')]);
    expect(ai.roomEnabled('r')).toBe(false); // the assistant left: switched off
    c.members.set('r', [member('me'), member('ai')]);
    expect(ai.roomEnabled('r')).toBe(true);
  });

  it('everything is off when the server has no AI', async () => {
    const off = (async () => json(200, { ai: { enabled: false, features: [] } })) as unknown as typeof fetch;
    const { c, calls } = fakeClient({ 'GET /users/me': () => ({ id: 'me' }) });
    const ai = new AiService(c, off);
    await ai.load();
    expect(ai.roomEnabled('r')).toBe(false);
    expect(await ai.refreshRoom('r')).toBe(false);
    expect(ai.has('translate')).toBe(false);
    expect(calls.filter((x) => x.path.includes('/ai'))).toEqual([]);
  });

  it('translates once per version and shows failures in place', async () => {
    let fail = true;
    const { c, calls } = fakeClient({
      'GET /users/me': () => ({ id: 'me', ai: { preferred_language: 'en', auto_translate: true } }),
      'POST /rooms/r/messages/m1/translate': (b) => {
        if (fail) throw new ApiError(503, 'ai_unavailable', 'breaker open');
        return { message_id: 'm1', lang: (b as { lang: string }).lang, text: 'Hello world', cached: false };
      },
    });
    const ai = new AiService(c, cfg);
    await ai.load();
    const m = msg();
    ai.showTranslation('r', m);
    expect(ai.translationState(m)?.status).toBe('loading');
    await flush();
    expect(ai.translationState(m)).toEqual({
      status: 'error',
      message: 'The AI provider is not answering. Try again later.',
    });
    fail = false;
    ai.showTranslation('r', m);
    await flush();
    const s = ai.translationState(m);
    expect(s?.status === 'done' && s.translation.text).toBe('Hello world');
    expect(calls.filter((x) => x.path.endsWith('/translate')).map((x) => x.body)).toEqual([
      { lang: 'en' },
      { lang: 'en' },
    ]);
    // "Show original" hides it; showing it again needs no request.
    ai.hideTranslation(m);
    expect(ai.translationState(m)?.status).toBe('hidden');
    ai.showTranslation('r', m);
    expect(ai.translationState(m)?.status).toBe('done');
    expect(calls.filter((x) => x.path.endsWith('/translate')).length).toBe(2);
    // An edit is a new version: nothing shown for it until asked (or auto-translated).
    expect(ai.translationState(msg({ edited_at: '2026-11-25T12:00:00Z' }))).toBeUndefined();
  });

  it('assembles gateway deltas into a preview until the final edit', async () => {
    const { c } = fakeClient({});
    const ai = new AiService(c, cfg);
    const m = msg({ id: 'bot-msg', body: AI_PLACEHOLDER, sender_id: 'bot' });
    // The row's preview is reactive: each delta that moves it re-runs what reads it, once.
    const seen: (string | undefined)[] = [];
    const dispose = createRoot((done) => {
      createEffect(() => seen.push(ai.preview(m)));
      return done;
    });
    c.onAiDelta!(d(0, 'Hi ', 'bot-msg'));
    c.onAiDelta!(d(1, 'there', 'bot-msg'));
    c.onAiDelta!(d(1, 'there', 'bot-msg'));
    dispose();
    expect(seen).toEqual([undefined, 'Hi ', 'Hi there']);
    expect(ai.preview(m)).toBe('Hi there');
    expect(ai.preview({ ...m, body: 'Hi there!', edited_at: '2026-11-25T10:00:01Z' })).toBeUndefined();
    expect(ai.streams.size).toBe(0);
  });

  it('keeps at most three non-empty suggestions', async () => {
    const { c } = fakeClient({
      'POST /rooms/r/ai/suggestions': () => ({ message_id: 'm1', suggestions: ['a', ' ', 'b', 'c', 'd'] }),
    });
    const ai = new AiService(c, cfg);
    expect((await ai.suggestions('r')).suggestions).toEqual(['a', 'b', 'c']);
  });
});

describe('AI styles', () => {
  it('use only theme variables (their pairs are checked by contrast.test.ts)', async () => {
    const { readFileSync } = await import('node:fs');
    const css = readFileSync(new URL('../src/ui/ai/ai.css', import.meta.url), 'utf8');
    expect(css.match(/#[0-9a-fA-F]{3,8}\b/g)).toBeNull();
    const colours = [...css.matchAll(/(?:^|[\s;{])(color|background):\s*([^;}]+)/g)].map((m) => m[2].trim());
    for (const c of colours) expect(c).toMatch(/^(var\(--(fg|muted|accent|accent-fg|danger|bg|bg2)\)|transparent)$/);
  });
});
