// Measures the web client against a running justus (docs/web-quality.md): seeds a conversation
// over the REST API, opens the app signed in (Maya's sign-up cookie) with playwright-core in
// Debian's Chromium, then
//   --shots DIR        screenshots of the room list and a room (1280 px and 390 px, light and dark)
//   --lighthouse DIR   Lighthouse (from ../shared/tools' kit) on the signed-in room, attached to
//                      the same browser (--port, --disable-storage-reset keep the session)
//
//   node scripts/quality.mjs http://127.0.0.1:18081 --shots ../docs/img --lighthouse /tmp/lh-room
//
// The URL is loopback only. Registers four users (the server's REGISTER_PER_IP_PER_HOUR must
// allow it). Lighthouse is looked up in $KIT (default /tmp/kit, where setup.sh installs it).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const BASE = (args[0] ?? '').replace(/\/$/, '');
const opt = (name) => {
  const i = args.indexOf(name);
  return i > 0 ? args[i + 1] : undefined;
};
if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(BASE)) {
  console.error('usage: node scripts/quality.mjs http://127.0.0.1:PORT [--shots DIR] [--lighthouse DIR]');
  process.exit(2);
}
const SHOTS = opt('--shots');
const LH = opt('--lighthouse');
const KIT = process.env.KIT ?? '/tmp/kit';
const PASSWORD = 'correct horse battery staple';
const stamp = Date.now().toString(36).slice(-4);

async function rest(method, path, token, body) {
  const r = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Run a command (stderr shown), killed after 4 minutes; resolves { status }. */
const run = (cmd, argv) =>
  new Promise((resolve) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    const t = setTimeout(() => c.kill('SIGTERM'), 240_000);
    c.on('exit', (status) => {
      clearTimeout(t);
      resolve({ status });
    });
  });
const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });

// ---------- a conversation worth looking at ----------
const people = {};
let cookie = null;
for (const [key, display] of [
  ['maya', 'Maya Lindqvist'],
  ['leo', 'Leo Okafor'],
  ['sara', 'Sara Haddad'],
  ['tom', 'Tom Becker'],
]) {
  const r = await fetch(`${BASE}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // Maya's session goes to the browser as the sign-up form would leave it: the refresh cookie.
    body: JSON.stringify({
      username: `${key}${stamp}`,
      password: PASSWORD,
      display_name: display,
      session_cookie: key === 'maya',
    }),
  });
  if (!r.ok) throw new Error(`register ${key} → ${r.status} ${(await r.text()).slice(0, 200)}`);
  if (key === 'maya') cookie = /^([^=]+)=([^;]*)/.exec(r.headers.get('set-cookie') ?? '');
  people[key] = await r.json();
}
if (!cookie) throw new Error('the sign-up set no session cookie');
const tok = (k) => people[k].access_token;
const id = (k) => people[k].user.id;
let n = 0;
const say = async (room, who, body, extra = {}) => {
  const m = await rest('POST', `/rooms/${room}/messages`, tok(who), { client_id: `q-${stamp}-${n++}`, body, ...extra });
  await sleep(30);
  return m;
};
const hike = await rest('POST', '/rooms', tok('maya'), {
  name: 'Weekend hike',
  topic: 'Saturday, Kebnekaise base camp',
});
for (const k of ['leo', 'sara', 'tom'])
  await rest('POST', `/rooms/${hike.id}/members`, tok('maya'), { user_id: id(k) });
await say(hike.id, 'maya', 'Morning all! Forecast for Saturday looks **dry**, 14 °C at the trailhead.');
const plan = await say(hike.id, 'leo', 'Great. I can drive — 4 seats, leaving 7:30 from the station.');
await say(hike.id, 'sara', 'Count me in. Who has the map?');
await say(hike.id, 'sara', 'Packing list so far:\n- water (2 l)\n- rain jacket, just in case\n- lunch');
await say(hike.id, 'tom', 'I have the map and a spare headlamp 🔦', { reply_to: plan.id });
const last = await say(hike.id, 'maya', 'Perfect. Let’s meet at the café by the station at 7:15 ☕');
await rest('PUT', `/rooms/${hike.id}/messages/${last.id}/reactions/${encodeURIComponent('👍')}`, tok('leo')).catch(
  () => {},
);
await rest('PUT', `/rooms/${hike.id}/messages/${last.id}/reactions/${encodeURIComponent('👍')}`, tok('sara')).catch(
  () => {},
);
const dm = await rest('POST', '/dms', tok('leo'), { user_id: id('maya') });
await say(dm.id, 'leo', 'Hey Maya, do you still have my tent from last time?');
await say(dm.id, 'maya', 'Yes! I’ll bring it on Saturday.');
const book = await rest('POST', '/rooms', tok('sara'), {
  name: 'Book club',
  topic: 'This month: The Left Hand of Darkness',
});
await rest('POST', `/rooms/${book.id}/members`, tok('sara'), { user_id: id('maya') });
await say(book.id, 'sara', 'Chapter 7 tonight — no spoilers please!');
// Maya has read the hike and the DM; the book club stays unread.
for (const r of [hike, dm]) {
  const { last_seq } = await rest('GET', `/rooms/${r.id}`, tok('maya'));
  await rest('POST', `/rooms/${r.id}/read`, tok('maya'), { seq: last_seq });
}
console.log(`seeded: users ${Object.keys(people).map((k) => `${k}${stamp}`)}, room ${BASE}/rooms/${hike.id}`);

// ---------- sign in (a persistent profile, so Lighthouse can attach to this browser) ----------
const profile = mkdtempSync(join(tmpdir(), 'justus-quality-'));
const port = await freePort();
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    `--remote-debugging-port=${port}`,
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  ],
});
await ctx.addCookies([
  {
    name: cookie[1],
    value: cookie[2],
    url: BASE,
    httpOnly: true,
    sameSite: 'Strict',
    expires: Math.floor(Date.now() / 1000) + 3600,
  },
]);
const page = ctx.pages()[0] ?? (await ctx.newPage());
await page.goto(`${BASE}/`);
await page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });

if (SHOTS) {
  mkdirSync(SHOTS, { recursive: true });
  const settle = () => page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [w, h, tag] of [
      [1280, 800, 'desktop'],
      [390, 844, 'mobile'],
    ]) {
      await page.setViewportSize({ width: w, height: h });
      await page.goto(`${BASE}/`);
      await page.getByTestId('room-item').filter({ hasText: 'Weekend hike' }).waitFor();
      await settle();
      await page.screenshot({ path: join(SHOTS, `${tag}-${scheme}-rooms.png`) });
      await page.getByTestId('room-item').filter({ hasText: 'Weekend hike' }).click();
      await page.getByTestId('message-body').filter({ hasText: 'café by the station' }).waitFor();
      await page.mouse.move(0, 0);
      await page.locator('.composer textarea').evaluate((el) => el.blur());
      await settle();
      await page.screenshot({ path: join(SHOTS, `${tag}-${scheme}-room.png`) });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  console.log(`screenshots in ${SHOTS}`);
}

let failed = false;
if (LH) {
  mkdirSync(LH, { recursive: true });
  await page.goto(`${BASE}/rooms/${hike.id}`);
  await page.getByTestId('message-body').filter({ hasText: 'café by the station' }).waitFor();
  for (const preset of ['mobile', 'desktop']) {
    const out = join(LH, `room-${preset}`);
    // Not spawnSync: a blocked event loop stops reading Chromium's pipe, and the browser stalls.
    const r = await run(join(KIT, 'node/node_modules/.bin/lighthouse'), [
      `${BASE}/rooms/${hike.id}`,
      `--port=${port}`,
      '--disable-storage-reset',
      '--only-categories=performance,accessibility,best-practices,seo',
      ...(preset === 'desktop' ? ['--preset=desktop'] : []),
      '--output=json',
      '--output=html',
      `--output-path=${out}`,
      '--quiet',
      '--no-enable-error-reporting',
    ]);
    if (r.status !== 0) {
      console.error(`lighthouse (${preset}) exited ${r.status}`);
      failed = true;
      continue;
    }
    const rep = JSON.parse(readFileSync(`${out}.report.json`, 'utf8'));
    const scores = Object.entries(rep.categories)
      .map(([k, c]) => `${k} ${c.score === null ? 'n/a' : Math.round(c.score * 100)}`)
      .join(', ');
    console.log(`lighthouse ${rep.lighthouseVersion} (${preset}) ${rep.finalDisplayedUrl}: ${scores}`);
    if (!/\/rooms\//.test(rep.finalDisplayedUrl)) {
      console.error('  not the signed-in room: the session did not carry over');
      failed = true;
    }
    for (const a of Object.values(rep.audits))
      if (a.score !== null && a.score < 1 && ['binary', 'numeric', 'metricSavings'].includes(a.scoreDisplayMode))
        console.log(`  below 1: ${a.id} (${a.score}) ${a.displayValue ?? ''}`);
  }
}
await ctx.close();
rmSync(profile, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
