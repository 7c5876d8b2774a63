// The session: which screen the app is on (loading, sign-in, the app), who is signed in, the
// gateway's connection state and whether the browser is online. Signals, so the banner and the
// screen switch follow them without re-rendering anything else.
import { batch, createSignal } from 'solid-js';
import type { ConnState } from '../gateway';
import { signal } from '../reactive';
import type { Me } from '../types';
import { markNewAccount } from '../onboarding';
import type { Client } from './index';

export type Phase = 'loading' | 'auth' | 'app';

export class Session {
  private readonly phaseS = signal<Phase>('loading');
  private readonly meS = signal<Me | null>(null);
  private readonly connS = signal<ConnState>('idle');
  /** Bumped by the browser's online/offline events (navigator.onLine itself is not reactive). */
  private readonly onlineV = createSignal(0, { equals: false });

  constructor(
    private readonly c: Client,
    private readonly isOnline: () => boolean,
  ) {}

  phase(): Phase {
    return this.phaseS.get();
  }

  me(): Me | null {
    return this.meS.get();
  }

  setMe(me: Me | null): void {
    this.meS.set(me);
  }

  conn(): ConnState {
    return this.connS.get();
  }

  setConn(s: ConnState): void {
    this.connS.set(s);
  }

  online(): boolean {
    this.onlineV[0]();
    return this.isOnline();
  }

  /** Page load: resume the session from the cookie (or the cache when offline), else sign in. */
  async start(): Promise<void> {
    const c = this.c;
    await c.outbox.load().catch(() => {});
    const cached = await c.persist.load();
    const res = await c.api.resume();
    if (res === null || (res === 'offline' && !cached)) {
      this.phaseS.set('auth');
      return;
    }
    const me = res === 'offline' ? (cached?.user ?? null) : res;
    if (!me) return;
    await c.drafts.load();
    batch(() => {
      this.meS.set(me);
      if (cached && cached.user.id === me.id) c.persist.restore(cached);
    });
    await this.enterApp();
  }

  async login(login: string, password: string): Promise<void> {
    this.meS.set(await this.c.api.login(login, password));
    await this.afterAuth();
  }

  async register(username: string, password: string, displayName?: string): Promise<void> {
    const me = await this.c.api.register(username, password, displayName);
    // Before the app shows, so the welcome screen is there on the first frame.
    markNewAccount(me.id);
    this.meS.set(me);
    await this.afterAuth();
  }

  private async afterAuth(): Promise<void> {
    const c = this.c;
    const cached = await c.persist.load();
    const me = this.me();
    if (cached && me && cached.user.id === me.id) {
      c.persist.restore(cached);
      await c.drafts.load();
    } else {
      // Another person's cache and drafts (their session ended without a sign-out) go.
      await c.persist.clear();
      await c.drafts.clear();
    }
    await this.enterApp();
  }

  private async enterApp(): Promise<void> {
    await this.c.beforeEnter?.().catch(() => {});
    this.phaseS.set('app');
    this.c.gateway.start();
  }

  async logout(all = false): Promise<void> {
    try {
      await this.c.api.logout(all);
    } catch {
      /* the local session ends anyway */
    }
    await this.loggedOut();
  }

  /** The server ended the session (refresh refused, 4003): back to the login screen. */
  ended(): void {
    if (this.phase() === 'app') void this.loggedOut();
  }

  async loggedOut(): Promise<void> {
    const c = this.c;
    c.gateway.stop();
    c.outbox.dispose();
    for (const i of c.outbox.list()) await c.outbox.discard(i.client_id).catch(() => {});
    await c.persist.clear();
    await c.drafts.clear();
    batch(() => {
      this.phaseS.set('auth');
      c.rooms.reset();
      c.moderation.reset();
      c.invitations.reset();
      c.timelines.clear();
      c.sync.have.clear();
      this.meS.set(null);
    });
  }

  /** The browser's online/offline events. */
  setOnline(online: boolean): void {
    if (online) {
      this.c.gateway.nudge();
      void this.c.outbox.flush();
    }
    this.onlineV[1](0);
  }
}
