import { createEffect, createRoot } from 'solid-js';
import { render } from 'solid-js/web';
import { App } from './App';
import { Api } from './lib/api';
import { Client } from './lib/client';
import { IdbOutboxStorage } from './lib/outbox';
import { IdbCache } from './lib/cache';
import { IdbDraftStorage } from './lib/drafts';
import { IdleTracker } from './lib/idle';
import { startUnreadIndicators } from './ui/unreadIndicators';
import { applyTheme, loadPrefs } from './ui/settings/prefs';
import { startNotifications } from './ui/settings/notifications';
import { Navigation } from './ui/navigation';
import './styles.css';

applyTheme(loadPrefs().theme);

const wsUrl = `${(location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host}/api/v1/ws`;
let client!: Client;
const api = new Api({ onLoggedOut: () => client?.session.ended() });
client = new Client({
  api,
  outboxStorage: new IdbOutboxStorage(),
  cache: new IdbCache(),
  draftStorage: new IdbDraftStorage(),
  wsUrl,
});
const nav = new Navigation(client);
// Invite links (/invite/<code>): the one the page was opened with is accepted on sign-in, before
// the app shows (it opens in that room); one reached inside the app (Back/Forward) at once.
nav.onInvite = (code) => void client.rooms.acceptInvite(code).catch(() => {});
client.beforeEnter = () => nav.acceptPendingInvite();
nav.start();
startNotifications(client, nav);
startUnreadIndicators(client);

window.addEventListener('online', () => client.session.setOnline(true));
window.addEventListener('offline', () => client.session.setOnline(false));
// Presence from activity: idle after five quiet minutes or while hidden (lib/idle.ts).
const idle = new IdleTracker({
  send: (status) => client.gateway.request('presence', { status }),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
});
let lastInput = 0;
for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const) {
  window.addEventListener(
    type,
    () => {
      const now = Date.now();
      if (now - lastInput < 1000) return;
      lastInput = now;
      idle.activity();
    },
    { capture: true, passive: true },
  );
}
createRoot(() =>
  createEffect(() => {
    if (client.conn === 'connected') idle.connected();
  }),
);
document.addEventListener('visibilitychange', () => {
  idle.visibility(document.visibilityState !== 'visible');
  if (document.visibilityState === 'visible') client.rooms.focused();
  else void client.drafts.flush();
});
window.addEventListener('pagehide', () => void client.drafts.flush());
window.addEventListener('focus', () => client.rooms.focused());

// Hooks for end-to-end tests (and debugging): no secrets are exposed, only actions.
(window as unknown as { __justus: unknown }).__justus = {
  expireAccessToken: () => api.dropAccessToken(),
  dropSocket: () => client.gateway.drop(),
  openRoom: (id: string | null) => client.rooms.open(id),
  held: () => (client.currentRoom ? client.timelines.get(client.currentRoom).size : 0),
  state: () => ({
    conn: client.conn,
    waiting: client.outbox.waiting,
    phase: client.phase,
    online: navigator.onLine,
    outbox: client.outbox.list().map((i) => `${i.state}:${i.error ?? ''}`),
  }),
};

render(() => <App client={client} nav={nav} />, document.getElementById('app')!);
void client.start();

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
}
