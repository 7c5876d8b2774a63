// E2E for getting around (called from run.mjs): the settings can always be left and are not
// reopened by the next sign-in, one room is current at a time, rooms have URLs (reload, Back),
// focus goes into the room that opens, errors read as sentences, the display name save answers,
// and sessions show a device a person recognises.

export async function navigationTests(h) {
  const { test, assert, newUser, openDm, openRoom, send, waitText, shot, BASE_URL, PASSWORD } = h;
  let sam, val;
  const heading = (u) => u.page.getByRole('heading', { level: 2 });
  const current = (u) => u.page.locator('[aria-current="page"]');
  const logIn = async (u) => {
    const p = u.page;
    await p.getByRole('tab', { name: 'Log in' }).click();
    await p.getByLabel('Username or email').fill(u.username);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.locator('form').getByRole('button', { name: 'Log in' }).click();
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
  };

  await test('nav: on a desktop the settings close by a visible button, a room or the gear; a new sign-in does not reopen them', async () => {
    [sam, val] = await Promise.all([newUser('sam'), newUser('val')]);
    await openDm(sam, val);
    await send(sam, 'hello val');
    const p = sam.page;
    const gear = p.getByRole('button', { name: 'Settings' });
    const settings = p.getByRole('heading', { name: 'Settings' });
    // 1. A visible way back.
    await gear.click();
    await settings.waitFor();
    const close = p.getByRole('button', { name: 'Back', exact: true });
    assert(await close.isVisible(), 'Back is visible on a desktop');
    await close.click();
    await settings.waitFor({ state: 'detached' });
    await heading(sam).filter({ hasText: 'Val' }).waitFor();
    // 2. The room that was open, clicked in the list.
    await gear.click();
    await settings.waitFor();
    assert((await current(sam).count()) === 0, 'no room is current while the settings cover it');
    await p.getByTestId('room-item').filter({ hasText: 'Val' }).click();
    await settings.waitFor({ state: 'detached' });
    await heading(sam).filter({ hasText: 'Val' }).waitFor();
    // 3. The gear again.
    await gear.click();
    await settings.waitFor();
    assert((await gear.getAttribute('aria-pressed')) === 'true', 'the gear says the settings are open');
    await gear.click();
    await settings.waitFor({ state: 'detached' });
    // 4. Log out from the settings, log in again: not in the settings.
    await gear.click();
    await p.getByRole('button', { name: 'Log out', exact: true }).click();
    await p.getByRole('tab', { name: 'Log in' }).waitFor();
    assert(new URL(p.url()).pathname === '/', `signed out at / (${p.url()})`);
    await logIn(sam);
    await p.getByTestId('room-item').first().waitFor();
    assert((await settings.count()) === 0, 'the settings are not reopened after signing in again');
  });

  await test('nav: exactly one room is current after switching and creating rooms', async () => {
    const p = sam.page;
    const check = async (title) => {
      await heading(sam).filter({ hasText: title }).waitFor();
      await p.waitForFunction(
        (t) => {
          const cur = [...document.querySelectorAll('[aria-current="page"]')];
          return cur.length === 1 && cur[0].textContent.includes(t);
        },
        title,
        { timeout: 5000 },
      );
    };
    for (const name of ['Alpha', 'Beta']) {
      await p.getByRole('button', { name: 'New group' }).click();
      await p.getByLabel('Group name').fill(name);
      await p.getByRole('button', { name: 'Create group' }).click();
      await check(name);
    }
    await openRoom(sam, 'Alpha');
    await check('Alpha');
    await openRoom(sam, 'Val');
    await check('Val');
    await p.keyboard.press('Control+k');
    await p.getByLabel('Room name').fill('Beta');
    await p.keyboard.press('Enter');
    await check('Beta');
    assert((await p.locator('.room-item.active').count()) === 1, 'one highlighted room');
  });

  await test('nav: rooms have URLs; a reload keeps the room and Back and Forward move inside the app', async () => {
    const p = sam.page;
    await openRoom(sam, 'Alpha');
    const alphaUrl = p.url();
    assert(/\/rooms\/[\w-]+$/.test(new URL(alphaUrl).pathname), `a room URL: ${alphaUrl}`);
    await openRoom(sam, 'Val');
    const valUrl = p.url();
    assert(valUrl !== alphaUrl, 'each room its own URL');
    await p.reload();
    await heading(sam).filter({ hasText: 'Val' }).waitFor({ timeout: 15000 });
    await waitText(sam, 'hello val');
    await p.goBack();
    await heading(sam).filter({ hasText: 'Alpha' }).waitFor();
    assert(p.url() === alphaUrl, `Back went to Alpha: ${p.url()}`);
    await p.goForward();
    await heading(sam).filter({ hasText: 'Val' }).waitFor();
    // The settings have a URL too, and Back leaves them.
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
    assert(new URL(p.url()).pathname === '/settings', `settings URL: ${p.url()}`);
    await p.goBack();
    await p.getByRole('heading', { name: 'Settings' }).waitFor({ state: 'detached' });
    await heading(sam).filter({ hasText: 'Val' }).waitFor();
    // A link to a room opens it in a new tab (same browser, signed in).
    const tab = await sam.context.newPage();
    await tab.goto(alphaUrl);
    await tab.getByRole('heading', { level: 2 }).filter({ hasText: 'Alpha' }).waitFor({ timeout: 15000 });
    await tab.close();
  });

  await test('nav: opening a room moves focus into it (composer), on a desktop and at 390 px', async () => {
    const p = sam.page;
    const focusIn = () =>
      p.waitForFunction(() => document.activeElement?.id === 'composer-input', null, { timeout: 5000 });
    await p.getByTestId('room-item').filter({ hasText: 'Alpha' }).click();
    await heading(sam).filter({ hasText: 'Alpha' }).waitFor();
    await focusIn();
    await p.setViewportSize({ width: 390, height: 800 });
    await p.getByRole('button', { name: 'Back to rooms' }).click();
    await p.getByTestId('room-item').filter({ hasText: 'Val' }).click();
    await heading(sam).filter({ hasText: 'Val' }).waitFor();
    await focusIn();
    await shot(sam, 'nav-390-room');
    await p.setViewportSize({ width: 1100, height: 760 });
  });

  await test('nav: server errors read as sentences (wrong password, a bad invite code)', async () => {
    const ctx = await h.browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${BASE_URL}/`);
    await p.getByLabel('Username or email').fill(sam.username);
    await p.getByLabel('Password').fill('not the password at all');
    await p.locator('form').getByRole('button', { name: 'Log in' }).click();
    const alert = p.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.innerText()).trim();
    assert(/^[A-Z].*\.$/.test(text) && !/_/.test(text), `a sentence: ${text}`);
    assert(text.includes('username or password'), `says what is wrong: ${text}`);
    await ctx.close();
    const s = sam.page;
    await s.getByRole('button', { name: 'Join', exact: true }).click();
    await s.getByLabel('Invite code or link').fill('no-such-invite-code');
    await s.locator('.side-form').getByRole('button', { name: 'Join' }).click();
    const err = s.locator('.sidebar').getByRole('alert');
    await err.waitFor();
    const e2 = (await err.innerText()).trim();
    assert(/^[A-Z].*\.$/.test(e2) && !/_/.test(e2), `a sentence: ${e2}`);
    await s.keyboard.press('Escape');
  });

  await test('nav: saving the display name answers; sessions show the browser, and another one can be ended', async () => {
    const p = val.page;
    const second = await h.browser.newContext();
    const other = { page: await second.newPage(), username: val.username };
    await other.page.goto(`${BASE_URL}/`);
    await logIn(other);
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByLabel('Display name').fill('Valentina');
    await p.getByRole('button', { name: 'Save', exact: true }).click();
    await p.getByTestId('name-status').filter({ hasText: 'Saved' }).waitFor();
    const devices = p.getByTestId('session-device');
    await devices.nth(1).waitFor();
    for (const d of await devices.allInnerTexts()) {
      assert(/^Chrome \d+ on Linux$/.test(d), `a readable device: ${d}`);
    }
    const n = await devices.count();
    await p
      .getByRole('button', { name: /^Sign out Chrome/ })
      .first()
      .click();
    await p.waitForFunction((n) => document.querySelectorAll('[data-testid=session-device]').length === n - 1, n);
    // The ended session is signed out at its next request.
    await other.page.evaluate(() => window.__justus.expireAccessToken());
    await other.page.reload();
    await other.page.getByRole('tab', { name: 'Log in' }).waitFor({ timeout: 15000 });
    await second.close();
    await p.keyboard.press('Escape');
  });
}
