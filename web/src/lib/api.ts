// REST client: access token in memory, refresh token in an HttpOnly cookie. Concurrent 401s
// share one refresh (single flight); a request is retried once after a refresh.
import { discardBody } from './http';
import type { AuthResponse, ErrorBody, Me } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  /** Worth retrying later (network, rate limit, server trouble), as opposed to a refusal. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500 || this.status === 408;
  }
}

export interface ApiOptions {
  base?: string;
  fetch?: typeof fetch;
  /** Called when the session is over (refresh refused): go to the login screen. */
  onLoggedOut?: () => void;
  /** Called after each successful login/refresh. */
  onAuth?: (auth: AuthResponse) => void;
  now?: () => number;
}

type Body = Record<string, unknown> | unknown[] | undefined;

export class Api {
  private token: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<boolean> | null = null;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  user: Me | null = null;
  sessionId: string | null = null;

  constructor(private readonly opts: ApiOptions = {}) {
    this.base = opts.base ?? '';
    this.fetchFn = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
    this.now = opts.now ?? Date.now;
  }

  get hasToken(): boolean {
    return this.token !== null;
  }
  get tokenExpiresAt(): number {
    return this.expiresAt;
  }

  /** Test hook: forget the access token as if it had expired. */
  dropAccessToken(): void {
    this.token = 'expired';
    this.expiresAt = 0;
  }

  private setAuth(a: AuthResponse): void {
    this.token = a.access_token;
    this.expiresAt = this.now() + a.expires_in * 1000;
    this.user = a.user;
    this.sessionId = a.session_id;
    this.opts.onAuth?.(a);
  }

  /** A token valid for at least `minValidityMs`, refreshing first if needed. */
  async getToken(minValidityMs = 30_000): Promise<string> {
    if (!this.token || this.expiresAt - this.now() < minValidityMs) {
      const ok = await this.refresh();
      if (!ok || !this.token) throw new ApiError(401, 'session_expired', 'session ended');
    }
    return this.token!;
  }

  /** Single-flight refresh with the cookie. Resolves false when the session is over. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      let res: Response;
      try {
        res = await this.fetchFn(`${this.base}/api/v1/auth/refresh`, {
          method: 'POST',
          credentials: 'same-origin',
        });
      } catch {
        throw new ApiError(0, 'network', 'network unreachable');
      }
      if (res.ok) {
        this.setAuth((await res.json()) as AuthResponse);
        return true;
      }
      if (res.status === 401 || res.status === 403) {
        await discardBody(res);
        this.token = null;
        this.expiresAt = 0;
        this.opts.onLoggedOut?.();
        return false;
      }
      throw await toError(res);
    };
    // Tabs of one browser share the cookie: serialise refreshes across them so one rotation
    // does not look like token reuse to the server.
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (locks) {
      const before = this.token;
      return locks.request('justus-refresh', async () => {
        if (this.token && this.token !== before && this.expiresAt - this.now() > 30_000) return true;
        return run();
      });
    }
    return run();
  }

  async request<T>(method: string, path: string, body?: Body, auth = true): Promise<T> {
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (auth) headers.Authorization = `Bearer ${await this.getToken(5_000)}`;
      try {
        return await this.fetchFn(`${this.base}/api/v1${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: 'same-origin',
        });
      } catch {
        throw new ApiError(0, 'network', 'network unreachable');
      }
    };
    let res = await send();
    if (res.status === 401 && auth) {
      const err = await toError(res);
      if (err.code === 'token_expired' || err.code === 'invalid_token' || err.code === 'missing_token') {
        const ok = await this.refresh();
        if (!ok) throw err;
        res = await send();
      } else {
        throw err;
      }
    }
    if (!res.ok) throw await toError(res);
    if (res.status === 204) {
      await discardBody(res);
      return undefined as T;
    }
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: Body): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
  patch<T>(path: string, body: Body): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  put<T>(path: string): Promise<T> {
    return this.request<T>('PUT', path);
  }
  del<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  async login(login: string, password: string): Promise<Me> {
    const a = await this.request<AuthResponse>('POST', '/auth/login', { login, password, session_cookie: true }, false);
    this.setAuth(a);
    return a.user;
  }

  async register(username: string, password: string, display_name?: string): Promise<Me> {
    const a = await this.request<AuthResponse>(
      'POST',
      '/auth/register',
      { username, password, display_name: display_name || undefined, session_cookie: true },
      false,
    );
    this.setAuth(a);
    return a.user;
  }

  /**
   * Resume a session from the cookie (page load): the user, null when there is no session,
   * or 'offline' when the server cannot be reached (the caller may start from its cache).
   */
  async resume(): Promise<Me | null | 'offline'> {
    try {
      if (!(await this.refresh())) return null;
    } catch (e) {
      return e instanceof ApiError && e.transient ? 'offline' : null;
    }
    return this.user;
  }

  async logout(all = false): Promise<void> {
    try {
      await this.post(all ? '/auth/logout-all' : '/auth/logout');
    } finally {
      this.token = null;
      this.expiresAt = 0;
      this.user = null;
    }
  }
}

async function toError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const j = (await res.json()) as Partial<ErrorBody>;
    if (j.error?.code) code = j.error.code;
    if (j.error?.message) message = j.error.message;
  } catch {
    /* not JSON (or cut short): whatever is left of the body is dropped */
    await discardBody(res);
  }
  const ra = res.headers.get('retry-after');
  return new ApiError(res.status, code, message, ra ? Number(ra) * 1000 : undefined);
}

export const enc = encodeURIComponent;
