// Where the user is: a room (and a message in it), the settings, or nothing picked, kept in the
// URL. Opening a room pushes a history entry, Back and Forward come back here (popstate), a
// reload restores the place, and signing out forgets it (the next sign-in starts fresh).
import { createEffect, createRoot, on, untrack } from 'solid-js';
import type { Client } from '../lib/client';
import { signal } from '../lib/reactive';
import { parseRoute, type Route, routePath } from '../lib/route';
import { friendlyError } from '../lib/errors';

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
  /** Invite codes met in the URL inside the app (Back/Forward to one), accepted at once. */
  onInvite: ((code: string) => void) | null = null;
  /** An invite link the page was opened with: the sign-in screen says so; accepted on sign-in. */
  private readonly inviteS = signal<string | null>(null);
  /** What became of it when it could not be accepted (a sentence), until the next room opens. */
  private readonly inviteNoteS = signal('');

  constructor(
    private readonly c: Client,
    private readonly env: HistoryEnv = browserHistory,
  ) {}

  /** The invite code the page was opened with, not yet accepted (tracked). */
  pendingInvite(): string | null {
    return this.inviteS.get();
  }

  /** Why the invite followed could not be accepted (tracked; '' when nothing to say). */
  inviteNote(): string {
    return this.inviteNoteS.get();
  }

  /**
   * Accept the invite the page was opened with (the client calls this once signed in, before
   * the app shows): the URL becomes the room's, so entering the app lands in it.
   */
  async acceptPendingInvite(): Promise<void> {
    const code = this.inviteS.get();
    if (!code) return;
    try {
      const r = await this.c.rooms.joinByInvite(code);
      this.env.replace(routePath({ kind: 'room', roomId: r.id }));
    } catch (e) {
      this.inviteNoteS.set(`The invite could not be used: ${friendlyError(e)}`);
      this.env.replace('/');
    } finally {
      this.inviteS.set(null);
    }
  }

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
    const first = parseRoute(this.env.path());
    if (first.kind === 'invite') this.inviteS.set(first.code);
    this.env.onPop(() => {
      if (this.c.phase === 'app') this.apply(parseRoute(this.env.path()));
    });
    createRoot(() => {
      // Any way a room opens (a notification, the switcher, a new DM) leaves the settings.
      createEffect(
        on(
          () => this.c.currentRoom,
          () => {
            this.settingsS.set(false);
            this.inviteNoteS.set('');
          },
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
