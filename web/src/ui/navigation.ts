// Where the user is: a room (and a message in it), the settings, or nothing picked, kept in the
// URL. Opening a room pushes a history entry, Back and Forward come back here (popstate), a
// reload restores the place, and signing out forgets it (the next sign-in starts fresh).
import { createEffect, createRoot, on, untrack } from 'solid-js';
import type { Client } from '../lib/client';
import { signal } from '../lib/reactive';
import { parseRoute, type Route, routePath } from '../lib/route';

/** The browser's history, or a fake one in tests. */
export interface HistoryEnv {
  path(): string;
  push(path: string): void;
  replace(path: string): void;
  onPop(fn: () => void): void;
}

export const browserHistory: HistoryEnv = {
  path: () => location.pathname,
  push: (p) => history.pushState(null, '', p),
  replace: (p) => history.replaceState(null, '', p),
  onPop: (fn) => window.addEventListener('popstate', fn),
};

/** A message to bring into view and highlight. */
export interface Target {
  roomId: string;
  messageId: string;
  /** Its seq when known (loading older pages stops there). */
  seq?: number;
}

export class Navigation {
  private readonly settingsS = signal(false);
  private readonly targetS = signal<Target | null>(null);
  /** Invite codes met in the URL before sign-in, accepted once the app is entered. */
  onInvite: ((code: string) => void) | null = null;

  constructor(
    private readonly c: Client,
    private readonly env: HistoryEnv = browserHistory,
  ) {}

  /** Whether the settings are on screen (tracked). */
  settings(): boolean {
    return this.settingsS.get();
  }

  /** The message to jump to, if any (tracked). */
  target(): Target | null {
    return this.targetS.get();
  }

  /** The jump was done (or given up). */
  clearTarget(): void {
    this.targetS.set(null);
  }

  openSettings(): void {
    this.settingsS.set(true);
  }

  closeSettings(): void {
    this.settingsS.set(false);
  }

  /** Open a room (closing the settings); with a message id, jump to that message. */
  openRoom(roomId: string | null, messageId?: string, seq?: number): Promise<void> {
    this.settingsS.set(false);
    this.targetS.set(roomId && messageId ? { roomId, messageId, seq } : null);
    if (roomId === this.c.currentRoom) return Promise.resolve();
    return this.c.rooms.open(roomId);
  }

  private apply(r: Route): void {
    if (r.kind === 'settings') {
      this.settingsS.set(true);
    } else if (r.kind === 'room') {
      void this.openRoom(r.roomId, r.messageId);
    } else if (r.kind === 'invite') {
      this.env.replace('/');
      this.onInvite?.(r.code);
    } else void this.openRoom(null);
  }

  /** The route the screen shows now (tracked). */
  private current(): Route {
    if (this.settingsS.get()) return { kind: 'settings' };
    const id = this.c.currentRoom;
    return id ? { kind: 'room', roomId: id } : { kind: 'home' };
  }

  /** Keep the URL and the screen in step (call once; lives as long as the page). */
  start(): void {
    this.env.onPop(() => {
      if (this.c.phase === 'app') this.apply(parseRoute(this.env.path()));
    });
    createRoot(() => {
      // Any way a room opens (a notification, the switcher, a new DM) leaves the settings.
      createEffect(
        on(
          () => this.c.currentRoom,
          () => this.settingsS.set(false),
          { defer: true },
        ),
      );
      let entered = false;
      createEffect(() => {
        if (this.c.phase !== 'app') {
          // Signed out (not the first screen of a page load): the next sign-in starts fresh.
          if (entered) {
            entered = false;
            untrack(() => {
              this.settingsS.set(false);
              this.targetS.set(null);
              this.env.replace('/');
            });
          }
          return;
        }
        const want = routePath(this.current());
        if (!entered) {
          entered = true;
          // Entering the app: the URL says where to go (a reload, a link, a notification).
          untrack(() => this.apply(parseRoute(this.env.path())));
          return;
        }
        untrack(() => {
          const now = parseRoute(this.env.path());
          // A message URL stays while its room is on screen.
          const same = routePath(now.kind === 'room' ? { kind: 'room', roomId: now.roomId } : now) === want;
          if (!same) this.env.push(want);
        });
      });
    });
  }
}
