// E2E for reading a conversation (called from run.mjs): the @-mention badge beside the unread
// one, names that follow a rename, notifications naming the sender, search and pins and reply
// quotes that jump to the message (loading back to it), message actions by keyboard, long press
// and context menu, and a timeline that keeps following new messages after a tall image.
import { makePng } from './media.mjs';

export async function conversationTests(h) {
  const { test, assert, newUser, openDm, openRoom, send, waitText, shot, rest, browser } = h;
  let kim, lou, max;
  const heading = (u) => u.page.getByRole('heading', { level: 2 });

  const makeGroup = async (owner, name, members) => {
    const p = owner.page;
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill(name);
    await p.getByRole('button', { name: 'Create group' }).click();
    await heading(owner).filter({ hasText: name }).waitFor();
    await p.getByRole('button', { name: 'Members' }).click();
    for (const u of members) {
      await p.getByLabel('Add a member by username').fill(u.username);
      await p.getByRole('button', { name: `Add ${u.username}` }).click();
      await p
        .locator('.members')
        .filter({ hasText: `@${u.username}` })
        .waitFor();
    }
    await p.getByRole('button', { name: 'Close panel' }).click();
  };

  await test('conversation: the @-mention badge shows beside the unread badge, not under it', async () => {
    [kim, lou, max] = await Promise.all([newUser('kim'), newUser('lou'), newUser('max')]);
    await makeGroup(kim, 'Crew', [lou, max]);
    await send(kim, 'plain one');
    await send(kim, `ping @${lou.username}`);
    const item = lou.page.getByTestId('room-item').filter({ hasText: 'Crew' });
    const mention = item.getByTestId('mentions');
    const unread = item.getByTestId('unread');
    await mention.waitFor();
    await unread.filter({ hasText: '2' }).waitFor();
    const [a, b] = [await mention.boundingBox(), await unread.boundingBox()];
    const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    assert(!overlap, `badges overlap: ${JSON.stringify([a, b])}`);
    // Both are really visible: the point at the middle of each is the badge itself.
    for (const loc of [mention, unread]) {
      const hit = await loc.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
      });
      assert(hit, 'badge not covered');
    }
    await shot(lou, 'conversation-badges');
  });

  await test("conversation: a renamed person's new name shows in the room list; a notification names the sender of a room never opened", async () => {
    // Lou has a DM with Max in the list.
    await openDm(lou, max);
    await send(lou, 'hi max');
    await max.page.getByTestId('room-item').filter({ hasText: 'hi max' }).waitFor();
    await openRoom(lou, 'Crew');
    await max.page.getByRole('button', { name: 'Settings' }).click();
    await max.page.getByLabel('Display name').fill('Maxine');
    await max.page.getByRole('button', { name: 'Save', exact: true }).click();
    await max.page.getByTestId('name-status').filter({ hasText: 'Saved' }).waitFor();
    await max.page.keyboard.press('Escape');
    await openRoom(lou, 'Max');
    await lou.page.getByTestId('room-item').filter({ hasText: 'Maxine' }).waitFor({ timeout: 10000 });
    await heading(lou).filter({ hasText: 'Maxine' }).waitFor();
    // Notifications: a hidden tab, a message from someone in a room this page never opened.
    const fresh = await browser.newContext();
    await fresh.grantPermissions(['notifications'], { origin: h.BASE_URL });
    const p = await fresh.newPage();
    await p.goto(h.BASE_URL);
    await p.getByLabel('Username or email').fill(kim.username);
    await p.getByLabel('Password').fill(h.PASSWORD);
    await p.locator('form').getByRole('button', { name: 'Log in' }).click();
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await p.evaluate(() => {
      localStorage.setItem(
        'justus.prefs',
        JSON.stringify({ ...JSON.parse(localStorage.getItem('justus.prefs') ?? '{}'), notifications: 'all' }),
      );
      window.__notes = [];
      const Real = window.Notification;
      window.Notification = class {
        static get permission() {
          return Real.permission;
        }
        constructor(title, opts) {
          window.__notes.push({ title, body: opts?.body });
        }
        close() {}
      };
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    });
    await openRoom(lou, 'Crew');
    await send(lou, 'a note for the crew');
    await p.waitForFunction(() => window.__notes.length > 0, null, { timeout: 10000 });
    const notes = await p.evaluate(() => window.__notes);
    assert(notes[0].title === 'Lou in Crew', `the sender is named: ${JSON.stringify(notes)}`);
    await fresh.close();
  });

  await test('conversation: search starts in its field, Enter searches, says when nothing matches, and a result far back jumps to the message', async () => {
    const p = kim.page;
    await openRoom(kim, 'Crew');
    await send(kim, 'the needle is here');
    await waitText(kim, 'the needle is here');
    // 250 newer messages over REST: the needle is no longer in the page the room loads.
    const { access_token: token } = await rest('POST', '/auth/login', null, {
      login: kim.username,
      password: h.PASSWORD,
    });
    const roomId = new URL(p.url()).pathname.split('/')[2];
    for (let i = 0; i < 250; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, k) =>
          rest('POST', `/rooms/${roomId}/messages`, token, { client_id: `hay-${i + k}`, body: `hay ${i + k}` }),
        ),
      );
    }
    await waitText(kim, 'hay 249');
    await p.reload();
    await heading(kim).filter({ hasText: 'Crew' }).waitFor({ timeout: 15000 });
    await waitText(kim, 'hay 249');
    assert((await p.getByTestId('message-body').filter({ hasText: 'the needle is here' }).count()) === 0, 'not held');
    await p.getByRole('button', { name: 'Search messages' }).click();
    const field = p.getByRole('searchbox', { name: 'Search messages' });
    assert(await field.evaluate((el) => el === document.activeElement), 'focus in the query field');
    await p.keyboard.type('zebrafishnothing');
    await p.keyboard.press('Enter');
    await p.getByTestId('search-status').filter({ hasText: 'No messages match' }).waitFor();
    assert(await p.getByRole('button', { name: 'Close panel' }).isVisible(), 'the panel stayed open');
    await field.fill('needle');
    await field.press('Enter');
    const result = p.locator('.search-results button').filter({ hasText: 'needle' });
    await result.waitFor();
    await result.click();
    const target = p.getByTestId('message').filter({ hasText: 'the needle is here' });
    await target.and(p.locator('.highlight')).waitFor({ timeout: 15000 });
    await p.waitForFunction(() => document.activeElement?.matches('[data-testid=message].highlight'));
    const inView = await target.evaluate((el) => {
      const list = el.closest('.vlist').getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= list.top - 1 && r.top < list.bottom;
    });
    assert(inView, 'the message is in view');
    await shot(kim, 'conversation-search-jump');
    await p.getByRole('button', { name: 'Close panel' }).click();
    // A message has a URL too: opened in a new tab, it loads back to the message and highlights it.
    const id = await target.getAttribute('data-id');
    const tab = await kim.context.newPage();
    await tab.goto(`${h.BASE_URL}/rooms/${roomId}/messages/${id}`);
    await tab
      .locator(`[data-testid=message][data-id="${id}"].highlight`)
      .filter({ hasText: 'the needle is here' })
      .waitFor({ timeout: 15000 });
    assert(new URL(tab.url()).pathname === `/rooms/${roomId}/messages/${id}`, `the message URL stays: ${tab.url()}`);
    await tab.close();
  });

  await test('conversation: a search result 300+ messages back loads around it in one request, is highlighted, and scrolling down reaches the newest message', async () => {
    const dex = await newUser('dex');
    await makeGroup(dex, 'Far back', []);
    const p = dex.page;
    await send(dex, 'the farneedle is here');
    await waitText(dex, 'the farneedle is here');
    const { access_token: token } = await rest('POST', '/auth/login', null, {
      login: dex.username,
      password: h.PASSWORD,
    });
    const roomId = new URL(p.url()).pathname.split('/')[2];
    const N = 320;
    for (let i = 0; i < N; i += 40) {
      await Promise.all(
        Array.from({ length: Math.min(40, N - i) }, (_, k) =>
          rest('POST', `/rooms/${roomId}/messages`, token, { client_id: `far-${i + k}`, body: `far hay ${i + k}` }),
        ),
      );
    }
    // The newest one last, alone (the ones sent together take their seqs in any order).
    const newest = 'the far end';
    await rest('POST', `/rooms/${roomId}/messages`, token, { client_id: 'far-end', body: newest });
    // A fresh page holds the latest page only (all the messages above were acknowledged).
    await p.reload();
    await heading(dex).filter({ hasText: 'Far back' }).waitFor({ timeout: 15000 });
    await waitText(dex, newest);
    const pages = [];
    p.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === `/api/v1/rooms/${roomId}/messages` && u.search) pages.push(u.search);
    });
    await p.getByRole('button', { name: 'Search messages' }).click();
    const field = p.getByRole('searchbox', { name: 'Search messages' });
    await field.fill('farneedle');
    await field.press('Enter');
    await p.locator('.search-results button').filter({ hasText: 'farneedle' }).click();
    const target = p.getByTestId('message').filter({ hasText: 'the farneedle is here' });
    await target.and(p.locator('.highlight')).waitFor({ timeout: 15000 });
    const seq = await target.getAttribute('data-seq');
    // One request around it (then, at most, the next newer page: the rows below are on screen).
    assert(
      pages[0]?.includes(`around=${seq}`) && !pages.some((q) => q.includes('before=')),
      `one request around the message, no paging back: ${pages.join(' ')}`,
    );
    await p.getByRole('button', { name: 'Close panel' }).click();
    await p.getByRole('button', { name: 'Jump to latest' }).waitFor();
    // Scroll down as a reader would: newer pages load (after=) until the live end.
    const last = p.getByTestId('message-body').filter({ hasText: new RegExp(`^${newest}$`) });
    for (let i = 0; i < 60 && !(await last.count()); i++) {
      await p.evaluate(() => {
        const l = document.querySelector('.vlist');
        l.scrollTop = l.scrollHeight;
      });
      await p.waitForTimeout(150);
    }
    await last.waitFor({ timeout: 5000 });
    assert(
      pages.some((q) => q.includes('after=')) && !pages.some((q) => q.includes('before=')),
      `newer pages after it: ${pages.join(' ')}`,
    );
    await p.getByRole('button', { name: 'Jump to latest' }).waitFor({ state: 'detached' });
    // Every message from the needle to the end is held (contiguous pages, no gap).
    const held = await p.evaluate(() => window.__justus.held());
    assert(held >= N + 2, `held after reaching the end: ${held}`);
    // At the live end the timeline follows new messages again.
    await send(dex, 'back at the end');
    await waitText(dex, 'back at the end');
    await dex.context.close();
  });

  await test('conversation: a pinned message and a reply quote jump to the message they show', async () => {
    const p = kim.page;
    await openRoom(kim, 'Crew');
    await send(kim, 'pin this one');
    await waitText(kim, 'pin this one');
    const msg = p.getByTestId('message').filter({ hasText: 'pin this one' });
    await msg.and(p.locator('[data-state=sent]')).waitFor();
    await msg.hover();
    await msg.getByRole('button', { name: 'Pin', exact: true }).click();
    await msg.hover();
    await msg.getByRole('button', { name: 'Reply', exact: true }).click();
    await send(kim, 'answering the pinned one');
    for (let i = 0; i < 30; i++) await send(kim, `filler ${i}`);
    await waitText(kim, 'filler 29');
    await p.getByRole('button', { name: 'Pinned messages' }).click();
    await p.getByTestId('pin').filter({ hasText: 'pin this one' }).click();
    await msg.and(p.locator('.highlight')).waitFor();
    await p.getByRole('button', { name: 'Close panel' }).click();
    // Back to the bottom, then the quote.
    await p.evaluate(() => {
      const l = document.querySelector('.vlist');
      l.scrollTop = l.scrollHeight;
    });
    await p.waitForFunction(() => !document.querySelector('.msg.highlight'), null, { timeout: 8000 });
    const quote = p.getByTestId('reply-quote').filter({ hasText: 'pin this one' });
    await p.evaluate(() => {
      const l = document.querySelector('.vlist');
      l.scrollTop = l.scrollHeight;
    });
    // The reply is 30 rows up: rendered only if the viewport and overscan reach it, which depends
    // on the room's height. Scroll up until it is, as a reader would.
    for (let i = 0; i < 20 && !(await quote.count()); i++) {
      await p.evaluate(() => {
        document.querySelector('.vlist').scrollTop -= 150;
      });
      await p.waitForTimeout(50);
    }
    await quote.scrollIntoViewIfNeeded();
    await quote.click();
    await msg.and(p.locator('.highlight')).waitFor();
  });

  await test('conversation: message actions open by keyboard on a text-only message, by context menu, and by long press', async () => {
    const p = lou.page;
    await openRoom(lou, 'Crew');
    await waitText(lou, 'filler 29');
    const msg = p.getByTestId('message').filter({ hasText: 'filler 29' });
    const bar = msg.getByTestId('message-actions');
    // Keyboard: the message takes focus, Tab goes into its actions.
    await msg.focus();
    assert(await bar.isVisible(), 'actions shown on focus');
    await p.keyboard.press('Tab');
    assert(
      await bar.evaluate((el) => el.contains(document.activeElement)),
      `Tab reaches the actions: ${await p.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))}`,
    );
    await p.keyboard.press('Enter');
    await p.getByText(/Replying to Kim/).waitFor();
    await p.getByRole('button', { name: 'Cancel reply' }).click();
    // Up moves to the message before.
    await msg.focus();
    await p.keyboard.press('ArrowUp');
    assert(
      await p.evaluate(() => document.activeElement?.textContent.includes('filler 28')),
      'ArrowUp moves to the previous message',
    );
    // Context menu (right click): the actions stay shown, focus on the first one.
    await p.mouse.move(1, 1);
    const other = p.getByTestId('message').filter({ hasText: 'filler 27' });
    await other.click({ button: 'right' });
    await other.getByTestId('message-actions').waitFor({ state: 'visible' });
    assert(
      await other.getByTestId('message-actions').evaluate((el) => el.contains(document.activeElement)),
      'focus on the first action',
    );
    assert(await other.evaluate((el) => el.classList.contains('keep-actions')), 'kept open');
    await p.keyboard.press('Escape');
    await p.waitForFunction(() => document.activeElement?.matches('[data-testid=message]:not(.keep-actions)'));
    assert(await other.evaluate((el) => el === document.activeElement), 'Escape gives focus back to the message');
    // Touch: a phone-sized page with a touch screen, a long press.
    const ctx = await browser.newContext({ viewport: { width: 390, height: 800 }, hasTouch: true, isMobile: true });
    const tp = await ctx.newPage();
    await tp.goto(p.url());
    await tp.getByLabel('Username or email').fill(lou.username);
    await tp.getByLabel('Password').fill(h.PASSWORD);
    await tp.locator('form').getByRole('button', { name: 'Log in' }).click();
    const tm = tp.getByTestId('message').filter({ hasText: 'filler 29' });
    await tm.waitFor({ timeout: 15000 });
    assert(!(await tm.getByTestId('message-actions').isVisible()), 'hidden before the press');
    const box = await tm.boundingBox();
    const cdp = await ctx.newCDPSession(tp);
    const point = { x: box.x + 80, y: box.y + box.height / 2 };
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    await tm.getByTestId('message-actions').waitFor({ state: 'visible', timeout: 3000 });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await tm.getByRole('button', { name: 'React', exact: true }).tap();
    await tm.getByRole('button', { name: 'React 👍' }).tap();
    await tm.getByRole('button', { name: /👍 1/ }).waitFor();
    await ctx.close();
  });

  await test('conversation: the timeline keeps following new messages after a tall image made it overflow', async () => {
    const [ned, ora] = await Promise.all([newUser('ned'), newUser('ora')]);
    await openDm(ned, ora);
    await send(ned, 'first');
    await openRoom(ora, 'Ned');
    await waitText(ora, 'first');
    await ned.page
      .getByTestId('file-input')
      .setInputFiles({ name: 'tall.png', mimeType: 'image/png', buffer: makePng(300, 1200) });
    await ned.page.getByTestId('upload-chip').first().waitFor();
    await ned.page.getByRole('button', { name: 'Send', exact: true }).click();
    await ora.page.locator('[data-testid=attachment-image] img').first().waitFor({ timeout: 20000 });
    const atBottom = (u) =>
      u.page
        .waitForFunction(
          () => {
            const l = document.querySelector('.vlist');
            return l.scrollTop + l.clientHeight >= l.scrollHeight - 30;
          },
          null,
          { timeout: 8000 },
        )
        .catch(async (e) => {
          const st = await u.page.evaluate(() => {
            const l = document.querySelector('.vlist');
            return { top: l.scrollTop, h: l.clientHeight, sh: l.scrollHeight };
          });
          throw new Error(`${u.name} not at the bottom: ${JSON.stringify(st)} ${e.message}`);
        });
    for (let i = 1; i <= 8; i++) {
      await send(ned, `after the image ${i}\n\nwith a second paragraph`);
      await waitText(ora, `after the image ${i}`);
      await atBottom(ora);
      await atBottom(ned);
    }
    const overflow = await ora.page.evaluate(() => {
      const l = document.querySelector('.vlist');
      return l.scrollHeight - l.clientHeight;
    });
    assert(overflow > 200, `the timeline overflows: ${overflow}`);
    await shot(ora, 'conversation-follow');
  });

  await test('conversation: grouping — consecutive messages from one sender share one header; grouped lines show their time on hover and focus', async () => {
    const p = kim.page;
    await openRoom(kim, 'Crew');
    await openRoom(lou, 'Crew');
    // Kim reads at the bottom; someone else speaks first, so Kim's next line starts a group.
    await p.evaluate(() => {
      const l = document.querySelector('.vlist');
      l.scrollTop = l.scrollHeight;
    });
    await send(lou, 'a break');
    await waitText(kim, 'a break');
    for (const t of ['group one', 'group two', 'group three']) await send(kim, t);
    await waitText(lou, 'group three');
    await send(lou, 'another sender');
    await waitText(kim, 'another sender');
    const row = (t) => p.getByTestId('message').filter({ hasText: t });
    const headers = async (t) => row(t).locator('header .sender').count();
    assert((await headers('group one')) === 1, 'the first line has the header');
    assert((await headers('group two')) === 0 && (await headers('group three')) === 0, 'the next lines share it');
    assert((await headers('another sender')) === 1, 'another sender starts a new group');
    const time = row('group two').locator('.hover-time');
    assert(!(await time.isVisible()), 'the time of a grouped line is hidden at rest');
    await row('group two').hover();
    await time.waitFor({ state: 'visible' });
    assert(/\d/.test(await time.innerText()), 'shows a time');
    assert((await time.getAttribute('datetime'))?.length > 10, 'machine-readable time');
    await p.mouse.move(1, 1);
    await time.waitFor({ state: 'hidden' });
    await row('group three').focus();
    await row('group three').locator('.hover-time').waitFor({ state: 'visible' });
    // The action bar is compact: one row, above the message's top right corner.
    const bar = await row('group three').getByTestId('message-actions').boundingBox();
    assert(bar.height <= 36, `one compact row: ${bar.height}px`);
    await shot(kim, 'grouping');
  });
}
