// JustUs service worker (hand-written). The app shell is precached at install so the app opens
// offline after the first visit; /api is network-only (never cached). The list below is filled
// in at build time by the Vite plugin in vite.config.ts.
const VERSION = '1082a0c1d7f9';
const PRECACHE = [
  "/assets/CropDialog-B7Vv-ToV.js",
  "/assets/Lightbox-PXbcurMy.js",
  "/assets/ModTools-B-7tk6Jz.js",
  "/assets/Reports-BR83tmva.js",
  "/assets/SettingsModeration-Db459oLs.js",
  "/assets/VoiceRecorder-C8WcUZeM.js",
  "/assets/data-BF1r6TM-.json",
  "/assets/index-BZCjxWEp.css",
  "/assets/index-Drozabyj.js",
  "/assets/picker-BB6lLEd2.js",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/icon-maskable-512.png",
  "/index.html",
  "/manifest.webmanifest"
];
const CACHE = `justus-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith('justus-shell-') && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // Network only for the API, the gateway and server endpoints.
  if (url.pathname.startsWith('/api/') || ['/health', '/ready', '/metrics'].includes(url.pathname)) return;
  if (req.mode === 'navigate') {
    // Fresh index.html when online (a new release is picked up), the cached shell offline.
    event.respondWith(
      fetch(req).catch(() => caches.match('/index.html', { cacheName: CACHE }).then((r) => r || Response.error())),
    );
    return;
  }
  event.respondWith(caches.match(req, { cacheName: CACHE }).then((hit) => hit || fetch(req)));
});

// A click on a notification the page showed through this worker (mobile browsers allow no
// other kind): focus an open window and tell it which room, or open the app.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const roomId = event.notification.data?.roomId;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
      const win = list[0];
      if (!win) return self.clients.openWindow('/');
      win.postMessage({ type: 'open-room', roomId });
      return win.focus();
    }),
  );
});
