// Rooms and the settings in the URL: parse/format, and the history kept in step with the screen.
import { createSignal } from 'solid-js';
import { describe, expect, it } from 'vitest';
import type { Client } from '../src/lib/client';
import { parseRoute, routePath } from '../src/lib/route';
import { type HistoryEnv, Navigation } from '../src/ui/navigation';

describe('routes', () => {
  it('parses and formats every route', () => {
    for (const path of ['/', '/settings', '/rooms/r-1', '/rooms/r-1/messages/m_2', '/invite/AbC-9']) {
      expect(routePath(parseRoute(path))).toBe(path);
    }
    expect(parseRoute('/rooms/abc/')).toEqual({ kind: 'room', roomId: 'abc' });
    expect(parseRoute('/rooms/a/messages/b')).toEqual({ kind: 'room', roomId: 'a', messageId: 'b' });
    expect(parseRoute('/nonsense/x')).toEqual({ kind: 'home' });
    expect(parseRoute('/rooms/../etc')).toEqual({ kind: 'home' });
  });
});

function fakeHistory(start: string) {
  const stack = [start];
  let i = 0;
  let pop: () => void = () => {};
  const env: HistoryEnv = {
    path: () => stack[i],
    push: (p) => {
      stack.splice(i + 1, stack.length, p);
      i++;
    },
    replace: (p) => {
      stack[i] = p;
    },
    onPop: (fn) => {
      pop = fn;
    },
  };
  return {
    env,
    stack,
    back: () => {
      i--;
      pop();
    },
    get index() {
      return i;
    },
  };
}

function fakeClient() {
  const [phase, setPhase] = createSignal<'loading' | 'auth' | 'app'>('loading');
  const [room, setRoom] = createSignal<string | null>(null);
  const c = {
    get phase() {
      return phase();
    },
    get currentRoom() {
      return room();
    },
    rooms: {
      open: async (id: string | null) => {
        setRoom(id);
      },
    },
  } as unknown as Client;
  return { c, setPhase };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('navigation', () => {
  it('opens the room in the URL on entry, pushes rooms and settings, and Back returns', async () => {
    const h = fakeHistory('/rooms/a');
    const { c, setPhase } = fakeClient();
    const nav = new Navigation(c, h.env);
    nav.start();
    setPhase('app');
    await tick();
    expect(c.currentRoom).toBe('a');
    expect(h.stack).toEqual(['/rooms/a']);
    await nav.openRoom('b');
    await tick();
    expect(h.stack).toEqual(['/rooms/a', '/rooms/b']);
    nav.openSettings();
    await tick();
    expect(h.env.path()).toBe('/settings');
    // A room clicked while the settings are open leaves them.
    await nav.openRoom('b');
    await tick();
    expect(nav.settings()).toBe(false);
    expect(h.env.path()).toBe('/rooms/b');
    h.back();
    await tick();
    expect(nav.settings()).toBe(true);
    h.back();
    await tick();
    expect(nav.settings()).toBe(false);
    expect(c.currentRoom).toBe('b');
    h.back();
    await tick();
    expect(c.currentRoom).toBe('a');
  });

  it('signing out forgets the place: the next sign-in does not reopen the settings', async () => {
    const h = fakeHistory('/');
    const { c, setPhase } = fakeClient();
    const nav = new Navigation(c, h.env);
    nav.start();
    setPhase('app');
    await tick();
    nav.openSettings();
    await tick();
    expect(h.env.path()).toBe('/settings');
    setPhase('auth');
    await tick();
    expect(h.env.path()).toBe('/');
    setPhase('app');
    await tick();
    expect(nav.settings()).toBe(false);
  });

  it('a jump target is set for a message and an invite URL is handed over once', async () => {
    const h = fakeHistory('/invite/xyz');
    const { c, setPhase } = fakeClient();
    const nav = new Navigation(c, h.env);
    const invites: string[] = [];
    nav.onInvite = (code) => invites.push(code);
    nav.start();
    setPhase('app');
    await tick();
    expect(invites).toEqual(['xyz']);
    expect(h.env.path()).toBe('/');
    await nav.openRoom('r', 'm', 7);
    expect(nav.target()).toEqual({ roomId: 'r', messageId: 'm', seq: 7 });
    nav.clearTarget();
    expect(nav.target()).toBeNull();
  });

  it('an invite link opened signed out is shown, accepted on sign-in, and the app opens in its room', async () => {
    const h = fakeHistory('/invite/abc');
    const { c, setPhase } = fakeClient();
    const accepted: string[] = [];
    (c.rooms as unknown as { joinByInvite: (code: string) => Promise<{ id: string }> }).joinByInvite = async (code) => {
      accepted.push(code);
      return { id: 'room-9' };
    };
    const nav = new Navigation(c, h.env);
    const handedOver: string[] = [];
    nav.onInvite = (code) => handedOver.push(code);
    nav.start();
    setPhase('auth');
    await tick();
    expect(nav.pendingInvite()).toBe('abc');
    expect(h.env.path()).toBe('/invite/abc');
    await nav.acceptPendingInvite();
    expect(accepted).toEqual(['abc']);
    expect(nav.pendingInvite()).toBeNull();
    setPhase('app');
    await tick();
    expect(c.currentRoom).toBe('room-9');
    expect(h.env.path()).toBe('/rooms/room-9');
    expect(handedOver).toEqual([]);
  });

  it('an invite that cannot be used says why, and the app opens on the room list', async () => {
    const h = fakeHistory('/invite/gone');
    const { c, setPhase } = fakeClient();
    (c.rooms as unknown as { joinByInvite: () => Promise<never> }).joinByInvite = async () => {
      throw new Error('invite expired');
    };
    const nav = new Navigation(c, h.env);
    nav.start();
    await nav.acceptPendingInvite();
    expect(nav.inviteNote()).toMatch(/^The invite could not be used/);
    setPhase('app');
    await tick();
    expect(c.currentRoom).toBeNull();
    expect(h.env.path()).toBe('/');
  });
});
