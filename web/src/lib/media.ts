// Media for the client: uploads (XHR, for upload progress and cancel by abort), per-room upload
// queues the composer shows as chips, and the signed-URL cache the attachment views read from.
// Plain TS: the UI subscribes to `changes` and re-reads snapshots.
import { ApiError, type Api } from './api';
import { Emitter } from './emitter';
import type { ErrorBody, Media, SignedUrlView } from './types';

/** Durations of recordings made here (voice notes), sent with their upload. */
const declaredDurations = new WeakMap<Blob, number>();

/** Remembers how long a recording is, so its upload declares `duration_ms`. */
export function declareDuration(file: Blob, ms: number): void {
  if (Number.isFinite(ms) && ms >= 0) declaredDurations.set(file, ms);
}

export type { Media };

/** What the server accepts (docs/protocol.md "Media"); checked again, authoritatively, by the server. */
export const ACCEPT =
  'image/jpeg,image/png,image/webp,image/gif,audio/ogg,audio/mpeg,audio/mp4,audio/webm,video/mp4,video/webm,' +
  '.pdf,.txt,.md,.csv,.log,.docx,.xlsx,.pptx,.odt,.ods,.odp,.doc,.xls,.ppt,.zip,.weba,.opus,.m4a,.mp3';
/** The server takes at most this many attachments per message. */
export const MAX_ATTACHMENTS = 10;

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The displayed box for an image: its aspect ratio, no side above `max` (CSS pixels). */
export function fitBox(
  width: number | null | undefined,
  height: number | null | undefined,
  max: number,
): { width: number; height: number } {
  const w = width && width > 0 ? width : max;
  const h = height && height > 0 ? height : Math.round(max * 0.75);
  const s = Math.min(1, max / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

// ---------- upload ----------

/** The part of XMLHttpRequest an upload uses (a fake in unit tests). */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: FormData): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

export class UploadCancelled extends Error {
  constructor() {
    super('upload cancelled');
  }
}

function errorFrom(status: number, text: string): ApiError {
  let code = status === 0 ? 'network' : `http_${status}`;
  let message = status === 0 ? 'network unreachable' : 'upload failed';
  try {
    const j = JSON.parse(text) as Partial<ErrorBody>;
    if (j.error?.code) code = j.error.code;
    if (j.error?.message) message = j.error.message;
  } catch {
    /* not JSON (a proxy's page): keep the generic text */
  }
  return new ApiError(status, code, message);
}

export interface MediaDeps {
  api: Api;
  base?: string;
  xhr?: () => XhrLike;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface SignedUrl {
  url: string;
  expiresAt: number;
}

export type Variant = 'original' | '320' | '1280';

/** Uploads and signed URLs for one signed-in client. */
export class MediaService {
  private readonly base: string;
  private readonly now: () => number;
  private readonly urls = new Map<string, SignedUrl>();
  private readonly pending = new Map<string, Promise<SignedUrl>>();
  private readonly queues = new Map<string, UploadQueue>();

  constructor(private readonly deps: MediaDeps) {
    this.base = deps.base ?? '';
    this.now = deps.now ?? Date.now;
  }

  /**
   * Upload one file; `onProgress` gets 0..1 as bytes leave. Abort the signal to cancel (the
   * promise then rejects with UploadCancelled and nothing is stored). A 401 refreshes once.
   */
  async upload(file: Blob, name: string, onProgress?: (f: number) => void, signal?: AbortSignal): Promise<Media> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.deps.api.getToken(60_000);
      if (signal?.aborted) throw new UploadCancelled();
      try {
        return await this.uploadOnce(file, name, token, onProgress, signal);
      } catch (e) {
        if (
          attempt === 0 &&
          e instanceof ApiError &&
          e.status === 401 &&
          (e.code === 'token_expired' || e.code === 'invalid_token')
        ) {
          if (await this.deps.api.refresh()) continue;
        }
        throw e;
      }
    }
  }

  private uploadOnce(
    file: Blob,
    name: string,
    token: string,
    onProgress?: (f: number) => void,
    signal?: AbortSignal,
  ): Promise<Media> {
    return new Promise((resolve, reject) => {
      const xhr = this.deps.xhr ? this.deps.xhr() : (new XMLHttpRequest() as unknown as XhrLike);
      const onAbortSignal = () => xhr.abort();
      signal?.addEventListener('abort', onAbortSignal, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbortSignal);
      xhr.open('POST', `${this.base}/api/v1/media`);
      xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress?.(Math.min(1, e.loaded / e.total));
      };
      xhr.onload = () => {
        done();
        if (xhr.status === 201 || xhr.status === 200) {
          try {
            resolve(JSON.parse(xhr.responseText) as Media);
          } catch {
            reject(new ApiError(xhr.status, 'invalid_response', 'the server sent an unreadable answer'));
          }
        } else reject(errorFrom(xhr.status, xhr.responseText));
      };
      xhr.onerror = () => {
        done();
        reject(errorFrom(0, ''));
      };
      xhr.onabort = () => {
        done();
        reject(new UploadCancelled());
      };
      const form = new FormData();
      // Recordings declare their length (the server keeps it for audio/video, display only).
      const ms = declaredDurations.get(file);
      if (ms !== undefined) form.append('duration_ms', String(Math.round(ms)));
      form.append('file', file, name);
      xhr.send(form);
    });
  }

  // ---------- signed URLs ----------

  /** A cached URL still good for at least `marginMs`, without asking the server. */
  cachedUrl(id: string, variant: Variant, marginMs = 30_000): string | undefined {
    const c = this.urls.get(`${id}/${variant}`);
    return c && c.expiresAt - this.now() > marginMs ? c.url : undefined;
  }

  /**
   * A signed URL for the media (or one of its thumbnails), cached until shortly before it
   * expires; concurrent calls share one request. `fresh` skips the cache (the URL was refused).
   */
  url(id: string, variant: Variant = 'original', fresh = false): Promise<SignedUrl> {
    return this.signed(`${id}/${variant}`, fresh, () => this.fetchUrl(id, variant));
  }

  /**
   * A signed URL for a person's or a group's avatar (`GET /users/{id}/avatar`, `/rooms/{id}/avatar`:
   * anyone who may see them may fetch it, unlike the media record itself). Cached like media.
   */
  avatarUrl(of: 'users' | 'rooms', id: string, mediaId: string): Promise<SignedUrl> {
    return this.signed(`${of}/${id}/${mediaId}`, false, () =>
      this.fetchPath(`/api/v1/${of}/${encodeURIComponent(id)}/avatar`),
    );
  }

  /** The cached URL under `key` while it has 30 s left, else one shared `load` for all callers. */
  private signed(key: string, fresh: boolean, load: () => Promise<SignedUrl>): Promise<SignedUrl> {
    const c = this.urls.get(key);
    if (!fresh && c && c.expiresAt - this.now() > 30_000) return Promise.resolve(c);
    if (fresh) this.urls.delete(key);
    let p = this.pending.get(key);
    if (!p) {
      p = load().then(
        (s) => {
          this.urls.set(key, s);
          this.pending.delete(key);
          return s;
        },
        (e) => {
          this.pending.delete(key);
          throw e;
        },
      );
      this.pending.set(key, p);
    }
    return p;
  }

  private fetchUrl(id: string, variant: Variant): Promise<SignedUrl> {
    return this.fetchPath(
      `/api/v1/media/${encodeURIComponent(id)}${variant === 'original' ? '' : `/thumbnails/${variant}`}`,
    );
  }

  private async fetchPath(path: string): Promise<SignedUrl> {
    const f = this.deps.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
    for (let attempt = 0; ; attempt++) {
      const token = await this.deps.api.getToken(5_000);
      let res: Response;
      try {
        // JSON instead of the 302: an <img> cannot carry the bearer token through a redirect.
        res = await f(this.base + path, {
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
          credentials: 'same-origin',
        });
      } catch {
        throw new ApiError(0, 'network', 'network unreachable');
      }
      if (res.ok) {
        const j = (await res.json()) as SignedUrlView;
        const requested = this.now();
        // Trust the server's expiry, but never beyond the default TTL from now (clock skew).
        const exp = Date.parse(j.expires_at);
        const expiresAt = Number.isFinite(exp) ? Math.min(exp, requested + 300_000) : requested + 60_000;
        return { url: j.url, expiresAt };
      }
      const err = errorFrom(res.status, await res.text().catch(() => ''));
      if (attempt === 0 && res.status === 401 && (await this.deps.api.refresh().catch(() => false))) continue;
      throw err;
    }
  }

  /** The upload queue of a room's composer (kept while the client lives, so chips survive a re-render). */
  queue(roomId: string): UploadQueue {
    let q = this.queues.get(roomId);
    if (!q) {
      q = new UploadQueue(this);
      this.queues.set(roomId, q);
    }
    return q;
  }

  /** Sign-out: cancel every upload and forget URLs. */
  reset(): void {
    for (const q of this.queues.values()) q.clear();
    this.queues.clear();
    this.urls.clear();
  }
}

// ---------- the composer's upload queue ----------

export interface UploadItem {
  key: string;
  name: string;
  size: number;
  mime: string;
  /** 0..1 of the bytes sent. */
  progress: number;
  state: 'uploading' | 'processing' | 'done' | 'failed';
  error?: string;
  media?: Media;
}

let seq = 0;

/**
 * Files on their way into the next message: each uploads at once (up to 3 at a time), shows its
 * progress, can be cancelled (aborting the request) or removed, and its media id is taken by
 * `take()` when the message is sent.
 */
export class UploadQueue {
  readonly changes = new Emitter();
  private items: UploadItem[] = [];
  private readonly aborts = new Map<string, AbortController>();
  private readonly waiting: { item: UploadItem; file: Blob }[] = [];
  private running = 0;

  constructor(
    private readonly svc: Pick<MediaService, 'upload'>,
    private readonly parallel = 3,
  ) {}

  list(): UploadItem[] {
    return this.items.map((i) => ({ ...i }));
  }

  get busy(): boolean {
    return this.items.some((i) => i.state === 'uploading' || i.state === 'processing');
  }

  get ready(): Media[] {
    return this.items.filter((i) => i.state === 'done' && i.media).map((i) => i.media!);
  }

  /** Add files; returns the keys. Beyond the per-message limit a file is refused in place. */
  add(files: Iterable<File | { blob: Blob; name: string }>): string[] {
    const keys: string[] = [];
    for (const f of files) {
      const blob = f instanceof Blob ? f : f.blob;
      const name = f instanceof Blob ? (f as File).name || 'file' : f.name;
      const item: UploadItem = {
        key: `u${++seq}`,
        name,
        size: blob.size,
        mime: blob.type,
        progress: 0,
        state: 'uploading',
      };
      keys.push(item.key);
      this.items.push(item);
      if (this.items.filter((i) => i.state !== 'failed').length > MAX_ATTACHMENTS) {
        item.state = 'failed';
        item.error = `At most ${MAX_ATTACHMENTS} files per message.`;
        continue;
      }
      this.waiting.push({ item, file: blob });
    }
    this.emit();
    this.pump();
    return keys;
  }

  private pump(): void {
    while (this.running < this.parallel && this.waiting.length) {
      const { item, file } = this.waiting.shift()!;
      this.running++;
      void this.run(item, file).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(item: UploadItem, file: Blob): Promise<void> {
    const ac = new AbortController();
    this.aborts.set(item.key, ac);
    try {
      const media = await this.svc.upload(
        file,
        item.name,
        (f) => {
          item.progress = f;
          // All bytes out: the server is still checking (scan, image cleaning).
          if (f >= 1) item.state = 'processing';
          this.emit();
        },
        ac.signal,
      );
      if (!this.items.includes(item)) return;
      item.state = 'done';
      item.progress = 1;
      item.media = media;
    } catch (e) {
      if (e instanceof UploadCancelled || !this.items.includes(item)) return;
      item.state = 'failed';
      item.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.aborts.delete(item.key);
      this.emit();
    }
  }

  /** Cancel an upload (abort the request) or drop a finished/failed chip. */
  remove(key: string): void {
    const i = this.items.findIndex((x) => x.key === key);
    if (i < 0) return;
    this.items.splice(i, 1);
    const w = this.waiting.findIndex((x) => x.item.key === key);
    if (w >= 0) this.waiting.splice(w, 1);
    this.aborts.get(key)?.abort();
    this.emit();
  }

  /** The uploaded media for the message being sent; their chips go away, failed ones stay. */
  take(): Media[] {
    const out = this.ready;
    this.items = this.items.filter((i) => i.state !== 'done');
    this.emit();
    return out;
  }

  clear(): void {
    for (const a of this.aborts.values()) a.abort();
    this.items = [];
    this.waiting.length = 0;
    this.emit();
  }

  private emit(): void {
    this.changes.emit();
  }
}

const services = new WeakMap<Api, MediaService>();
/** The media service of a client's API (one per signed-in app). */
export function mediaFor(api: Api): MediaService {
  let s = services.get(api);
  if (!s) {
    s = new MediaService({ api });
    services.set(api, s);
  }
  return s;
}

/** A short text for attachments (room list preview, a message's accessible name): "Photo", "2 files: a.pdf, b.zip". */
export function attachmentSummary(items: Media[] | undefined): string {
  if (!items?.length) return '';
  if (items.length === 1) {
    const m = items[0];
    return m.kind === 'image'
      ? `Photo: ${m.name}`
      : m.kind === 'audio'
        ? `Audio: ${m.name}`
        : m.kind === 'video'
          ? `Video: ${m.name}`
          : `File: ${m.name}`;
  }
  return `${items.length} attachments: ${items.map((m) => m.name).join(', ')}`;
}
