import { describe, expect, it } from 'vitest';
import type { Api } from '../src/lib/api';
import { ApiError } from '../src/lib/api';
import {
  declareDuration,
  fitBox,
  formatSize,
  MAX_ATTACHMENTS,
  MediaService,
  UploadCancelled,
  UploadQueue,
  type Media,
  type XhrLike,
} from '../src/lib/media';
import { decodeBlurhash, isBlurhash } from '../src/lib/mediaBlurhash';
import { formatElapsed } from '../src/lib/mediaRecorder';

const media = (id: string): Media => ({
  id,
  kind: 'image',
  mime: 'image/png',
  name: `${id}.png`,
  size: 10,
  width: 4,
  height: 3,
  blurhash: null,
  duration_ms: null,
});

function fakeApi(over: Partial<{ refresh: () => Promise<boolean> }> = {}) {
  let token = 't1';
  const api = {
    getToken: async () => token,
    refresh:
      over.refresh ??
      (async () => {
        token = 't2';
        return true;
      }),
  };
  return api as unknown as Api;
}

/** A fake XHR the test drives: progress, answer, or abort. */
class FakeXhr implements XhrLike {
  static last: FakeXhr;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = '';
  aborted = false;
  upload: XhrLike['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(m: string, u: string) {
    this.method = m;
    this.url = u;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(b: FormData) {
    this.body = b;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('blurhash', () => {
  const hash = 'LEHV6nWB2yk8pyo0adR*.7kCMdnj';
  it('recognises well-formed hashes only', () => {
    expect(isBlurhash(hash)).toBe(true);
    expect(isBlurhash(hash.slice(0, -1))).toBe(false);
    expect(isBlurhash('LEHV6nWB2yk8pyo0adR*.7kCMdn"')).toBe(false);
    expect(isBlurhash(null)).toBe(false);
    expect(() => decodeBlurhash('abc', 4, 4)).toThrow();
  });
  it('decodes a known hash to the reference pixels', () => {
    // Wolt's reference decoder (the blurhash package) at 4×3: RGBA, row by row.
    expect(Array.from(decodeBlurhash(hash, 4, 3))).toEqual([
      135, 164, 177, 255, 161, 173, 177, 255, 181, 180, 171, 255, 160, 172, 174, 255, 124, 154, 169, 255, 148, 148, 154,
      255, 164, 145, 134, 255, 146, 152, 155, 255, 124, 144, 154, 255, 144, 134, 132, 255, 163, 130, 104, 255, 148, 140,
      134, 255,
    ]);
  });
  it('decodes to opaque pixels whose mean is the DC colour', () => {
    const px = decodeBlurhash(hash, 32, 24);
    expect(px.length).toBe(32 * 24 * 4);
    let r = 0,
      g = 0,
      b = 0;
    for (let i = 0; i < px.length; i += 4) {
      expect(px[i + 3]).toBe(255);
      r += px[i];
      g += px[i + 1];
      b += px[i + 2];
    }
    const n = 32 * 24;
    // DC of this hash ("HV6n" → 0x...): a mid grey-violet; the AC terms average out to ~0.
    const dc = 'HV6n'
      .split('')
      .reduce(
        (v, ch) =>
          v * 83 + '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~'.indexOf(ch),
        0,
      );
    const near = (mean: number, c: number) => Math.abs(mean - c) < 40;
    expect(near(r / n, dc >> 16) && near(g / n, (dc >> 8) & 255) && near(b / n, dc & 255)).toBe(true);
    // Not flat: the AC components make a picture.
    expect(
      Math.max(...px.filter((_, i) => i % 4 === 0)) - Math.min(...px.filter((_, i) => i % 4 === 0)),
    ).toBeGreaterThan(20);
  });
});

describe('helpers', () => {
  it('formats sizes and times', () => {
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(183204)).toBe('179 KB');
    expect(formatSize(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatElapsed(65_400)).toBe('1:05');
  });
  it('fits images in a box keeping the aspect ratio', () => {
    expect(fitBox(900, 1600, 320)).toEqual({ width: 180, height: 320 });
    expect(fitBox(100, 50, 320)).toEqual({ width: 100, height: 50 });
    expect(fitBox(null, null, 320)).toEqual({ width: 320, height: 240 });
  });
});

describe('MediaService.upload', () => {
  it('declares the length of a recording before the file, and nothing for other files', async () => {
    const svc = new MediaService({ api: fakeApi(), xhr: () => new FakeXhr() });
    const voice = new Blob(['ogg'], { type: 'audio/webm' });
    declareDuration(voice, 4200.4);
    void svc.upload(voice, 'voice.weba');
    await tick();
    const parts = [...FakeXhr.last.body!.keys()];
    expect(parts).toEqual(['duration_ms', 'file']);
    expect(FakeXhr.last.body!.get('duration_ms')).toBe('4200');
    void svc.upload(new Blob(['abc'], { type: 'image/png' }), 'a.png');
    await tick();
    expect([...FakeXhr.last.body!.keys()]).toEqual(['file']);
  });
  it('posts multipart with the token, reports progress, resolves the media', async () => {
    const svc = new MediaService({ api: fakeApi(), xhr: () => new FakeXhr() });
    const seen: number[] = [];
    const p = svc.upload(new Blob(['abc'], { type: 'image/png' }), 'a.png', (f) => seen.push(f));
    await tick();
    const x = FakeXhr.last;
    expect(x.method).toBe('POST');
    expect(x.url).toBe('/api/v1/media');
    expect(x.headers.Authorization).toBe('Bearer t1');
    expect((x.body!.get('file') as File).name).toBe('a.png');
    x.progress(1, 4);
    x.progress(4, 4);
    x.answer(201, media('m1'));
    expect((await p).id).toBe('m1');
    expect(seen).toEqual([0.25, 1]);
  });
  it("rejects with the server's error code and message", async () => {
    const svc = new MediaService({ api: fakeApi(), xhr: () => new FakeXhr() });
    const p = svc.upload(new Blob(['MZ']), 'x.exe');
    await tick();
    FakeXhr.last.answer(415, {
      error: { code: 'unsupported_media_type', message: 'This kind of file is not accepted.' },
    });
    await expect(p).rejects.toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
      message: 'This kind of file is not accepted.',
    });
  });
  it('a non-JSON failure still gives an ApiError; a network error is transient', async () => {
    const svc = new MediaService({ api: fakeApi(), xhr: () => new FakeXhr() });
    const p = svc.upload(new Blob(['a']), 'a.txt');
    await tick();
    FakeXhr.last.status = 502;
    FakeXhr.last.responseText = '<html>bad gateway</html>';
    FakeXhr.last.onload!();
    await expect(p).rejects.toBeInstanceOf(ApiError);
    const q = svc.upload(new Blob(['a']), 'a.txt');
    await tick();
    FakeXhr.last.onerror!();
    const e = (await q.catch((e) => e)) as ApiError;
    expect(e.transient).toBe(true);
  });
  it('aborting the signal aborts the request', async () => {
    const svc = new MediaService({ api: fakeApi(), xhr: () => new FakeXhr() });
    const ac = new AbortController();
    const p = svc.upload(new Blob(['a']), 'a.txt', undefined, ac.signal);
    await tick();
    ac.abort();
    expect(FakeXhr.last.aborted).toBe(true);
    await expect(p).rejects.toBeInstanceOf(UploadCancelled);
  });
  it('retries once with a refreshed token after an expired-token 401', async () => {
    const svc = new MediaService({ api: fakeApi(), xhr: () => new FakeXhr() });
    const p = svc.upload(new Blob(['a']), 'a.txt');
    await tick();
    FakeXhr.last.answer(401, { error: { code: 'token_expired', message: 'expired' } });
    await tick();
    await tick();
    expect(FakeXhr.last.headers.Authorization).toBe('Bearer t2');
    FakeXhr.last.answer(201, media('m2'));
    expect((await p).id).toBe('m2');
  });
});

describe('MediaService.url (signed URL cache)', () => {
  function setup() {
    let now = 1_000_000;
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const fetchFn = (async (url: string, init: RequestInit) => {
      calls.push({ url, headers: init.headers as Record<string, string> });
      await tick();
      return new Response(
        JSON.stringify({ url: `/signed/${calls.length}`, expires_at: new Date(now + 300_000).toISOString() }),
        { status: 200 },
      );
    }) as unknown as typeof fetch;
    const svc = new MediaService({ api: fakeApi(), fetch: fetchFn, now: () => now });
    return { svc, calls, advance: (ms: number) => (now += ms) };
  }
  it('asks for JSON with the token and shares concurrent requests', async () => {
    const { svc, calls } = setup();
    const [a, b] = await Promise.all([svc.url('m1', '320'), svc.url('m1', '320')]);
    expect(a.url).toBe('/signed/1');
    expect(b.url).toBe('/signed/1');
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('/api/v1/media/m1/thumbnails/320');
    expect(calls[0].headers).toMatchObject({ Accept: 'application/json', Authorization: 'Bearer t1' });
    expect(svc.cachedUrl('m1', '320')).toBe('/signed/1');
    await svc.url('m1');
    expect(calls[1].url).toBe('/api/v1/media/m1');
  });
  it('serves from the cache until shortly before expiry, then fetches again', async () => {
    const { svc, calls, advance } = setup();
    await svc.url('m1', '1280');
    advance(200_000);
    await svc.url('m1', '1280');
    expect(calls).toHaveLength(1);
    advance(80_000); // 20 s left: too close to expiry to hand out
    expect(svc.cachedUrl('m1', '1280')).toBeUndefined();
    expect((await svc.url('m1', '1280')).url).toBe('/signed/2');
    expect((await svc.url('m1', '1280', true)).url).toBe('/signed/3');
  });
  it('a refusal is an ApiError and is not cached', async () => {
    let n = 0;
    const fetchFn = (async () =>
      ++n === 1
        ? new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such media' } }), { status: 404 })
        : new Response(JSON.stringify({ url: '/ok', expires_at: new Date(Date.now() + 300_000).toISOString() }), {
            status: 200,
          })) as unknown as typeof fetch;
    const svc = new MediaService({ api: fakeApi(), fetch: fetchFn });
    await expect(svc.url('x')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await svc.url('x')).url).toBe('/ok');
  });
});

describe('UploadQueue', () => {
  function fakeSvc() {
    const pending: {
      name: string;
      progress: (f: number) => void;
      resolve: (m: Media) => void;
      reject: (e: unknown) => void;
      signal: AbortSignal;
    }[] = [];
    const svc = {
      upload: (_b: Blob, name: string, progress: (f: number) => void, signal: AbortSignal) =>
        new Promise<Media>((resolve, reject) => {
          pending.push({ name, progress, resolve, reject, signal });
          signal.addEventListener('abort', () => reject(new UploadCancelled()));
        }),
    } as unknown as MediaService;
    return { svc, pending };
  }
  const file = (name: string) => new File(['x'], name, { type: 'image/png' });

  it('uploads at most 3 at a time, tracks progress and hands the ids over once', async () => {
    const { svc, pending } = fakeSvc();
    const q = new UploadQueue(svc);
    let changes = 0;
    q.changes.subscribe(() => changes++);
    q.add([file('a.png'), file('b.png'), file('c.png'), file('d.png')]);
    expect(pending).toHaveLength(3);
    expect(q.busy).toBe(true);
    pending[0].progress(0.5);
    expect(q.list()[0].progress).toBe(0.5);
    pending[0].progress(1);
    expect(q.list()[0].state).toBe('processing');
    pending[0].resolve(media('a'));
    await tick();
    expect(q.list()[0].state).toBe('done');
    expect(pending).toHaveLength(4);
    for (const [i, p] of pending.slice(1).entries()) p.resolve(media('bcd'[i]));
    await tick();
    expect(q.busy).toBe(false);
    expect(q.take().map((m) => m.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(q.list()).toHaveLength(0);
    expect(q.take()).toEqual([]);
    expect(changes).toBeGreaterThan(4);
  });
  it('cancel aborts the request and nothing is handed over', async () => {
    const { svc, pending } = fakeSvc();
    const q = new UploadQueue(svc);
    const [k] = q.add([file('big.png')]);
    q.remove(k);
    expect(pending[0].signal.aborted).toBe(true);
    await tick();
    expect(q.list()).toHaveLength(0);
    expect(q.take()).toEqual([]);
  });
  it("a refused file keeps its chip with the server's message; the others still go", async () => {
    const { svc, pending } = fakeSvc();
    const q = new UploadQueue(svc);
    q.add([file('ok.png'), file('bad.exe')]);
    pending[0].resolve(media('ok'));
    pending[1].reject(new ApiError(415, 'unsupported_media_type', 'This kind of file is not accepted.'));
    await tick();
    expect(q.list()[1]).toMatchObject({ state: 'failed', error: 'This kind of file is not accepted.' });
    expect(q.take().map((m) => m.id)).toEqual(['ok']);
    expect(q.list()).toHaveLength(1);
  });
  it(`refuses more than ${MAX_ATTACHMENTS} files per message in place`, () => {
    const { svc, pending } = fakeSvc();
    const q = new UploadQueue(svc, 20);
    q.add(Array.from({ length: MAX_ATTACHMENTS + 2 }, (_, i) => file(`f${i}.png`)));
    expect(pending).toHaveLength(MAX_ATTACHMENTS);
    expect(q.list().filter((i) => i.state === 'failed')).toHaveLength(2);
  });
});

describe('attachments in the outbox', () => {
  it('are kept with the queued message and shown on its pending row', async () => {
    const { MemoryOutboxStorage, Outbox } = await import('../src/lib/outbox');
    const { Timeline } = await import('../src/lib/timeline');
    const storage = new MemoryOutboxStorage();
    const sent: unknown[] = [];
    const ob = new Outbox(storage, {
      send: async (i) => {
        sent.push(i);
        throw new Error('offline');
      },
      canSend: () => false,
    });
    const item = await ob.enqueue('r1', '', null, [media('m1'), media('m2')]);
    expect((await storage.all())[0].attachments?.map((a) => a.id)).toEqual(['m1', 'm2']);
    const rows = new Timeline('r1', () => 'me').items(ob.list('r1'));
    expect(rows[0]).toMatchObject({ state: 'sending', message: { client_id: item.client_id, body: '' } });
    expect(rows[0].message.attachments?.map((a) => a.id)).toEqual(['m1', 'm2']);
    const plain = await ob.enqueue('r1', 'text only');
    expect(plain.attachments).toBeUndefined();
    ob.dispose();
  });
});

describe('avatars', () => {
  it('sets the avatar through the field the OpenAPI document names (no run-time lookup)', async () => {
    const { AVATAR_FIELD, avatarPatch } = await import('../src/lib/mediaAvatar');
    const { readFileSync } = await import('node:fs');
    const doc = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    for (const schema of ['PatchMe', 'PatchRoom'])
      expect(Object.keys(doc.components.schemas[schema].properties)).toContain(AVATAR_FIELD);
    expect(avatarPatch('m1')).toEqual({ avatar: 'm1' });
  });
  it('crop: starts centred, never leaves empty corners, zooms around the centre', async () => {
    const { clampCrop, cropRect, initialCrop, zoomTo } = await import('../src/lib/mediaAvatar');
    const c = initialCrop(400, 200, 100);
    // Landscape: the height fills the square, the middle 200×200 is shown.
    expect(cropRect(c)).toEqual({ sx: 100, sy: 0, size: 200 });
    const panned = clampCrop({ ...c, x: 50, y: -30 });
    expect(cropRect(panned)).toEqual({ sx: 0, sy: 0, size: 200 });
    const far = clampCrop({ ...c, x: -1000 });
    expect(cropRect(far).sx + cropRect(far).size).toBeCloseTo(400);
    const z = zoomTo(c, 2);
    const r = cropRect(z);
    expect(r.size).toBeCloseTo(100);
    expect(r.sx + r.size / 2).toBeCloseTo(200);
    expect(r.sy + r.size / 2).toBeCloseTo(100);
    expect(zoomTo(c, 0.2).zoom).toBe(1);
    expect(zoomTo(c, 50).zoom).toBe(8);
  });
});

describe('attachmentSummary', () => {
  it('names what was sent', async () => {
    const { attachmentSummary } = await import('../src/lib/media');
    expect(attachmentSummary(undefined)).toBe('');
    expect(attachmentSummary([media('cat')])).toBe('Photo: cat.png');
    expect(attachmentSummary([{ ...media('r'), kind: 'file', name: 'r.pdf' }])).toBe('File: r.pdf');
    expect(attachmentSummary([media('a'), media('b')])).toBe('2 attachments: a.png, b.png');
  });
});
