// E2E for reactions (called from run.mjs): who reacted, by name, on hover, keyboard focus and a
// long press on a touch screen (which does not toggle the reaction).

/** A group made by `owner` with `members` added from the members panel. */
export async function makeGroup(owner, name, members) {
  const p = owner.page;
  await p.getByRole('button', { name: 'New group' }).click();
  await p.getByLabel('Group name').fill(name);
  await p.getByRole('button', { name: 'Create group' }).click();
  await p.getByRole('heading', { level: 2 }).filter({ hasText: name }).waitFor();
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
}

export async function reactionTests(h) {
  const { test, assert, newUser, openRoom, send, waitText, shot, browser, PASSWORD } = h;

  await test('reactions: who reacted shows by name on hover, on keyboard focus and on a long press (which does not toggle it)', async () => {
    const [gus, hal, zoe] = await Promise.all([newUser('gus'), newUser('hal'), newUser('zoe')]);
    await makeGroup(gus, 'Reactors', [hal, zoe]);
    await send(gus, 'react to me');
    for (const u of [hal, zoe]) {
      await openRoom(u, 'Reactors');
      await waitText(u, 'react to me');
      const m = u.page.getByTestId('message').filter({ hasText: 'react to me' });
      await m.hover();
      await m.getByRole('button', { name: 'React', exact: true }).click();
      await m.getByRole('button', { name: 'React 👍' }).click();
      // One after the other: the server lists them oldest first.
      await m.getByRole('button', { name: u === hal ? /👍 1/ : /👍 2/ }).waitFor();
    }
    const p = gus.page;
    const msg = p.getByTestId('message').filter({ hasText: 'react to me' });
    const chip = msg.getByTestId('reaction');
    await chip.getByText('👍 2').waitFor();
    const tip = msg.getByTestId('reactors');
    assert(!(await tip.isVisible()), 'hidden at first');
    await chip.hover();
    await tip.waitFor({ state: 'visible' });
    assert((await tip.innerText()) === 'Hal and Zoe reacted with 👍', `hover: ${await tip.innerText()}`);
    assert(
      (await chip.getAttribute('aria-describedby')) === (await tip.getAttribute('id')),
      'the chip is described by it',
    );
    await shot(gus, 'reactions-who');
    await p.mouse.move(0, 0);
    await tip.waitFor({ state: 'hidden' });
    // Gus adds his: he is named first, as "You"; keyboard focus shows it; Escape hides it.
    await chip.click();
    await chip.getByText('👍 3').waitFor();
    await p.mouse.move(0, 0);
    await msg.focus();
    await chip.focus();
    await tip.waitFor({ state: 'visible' });
    assert((await tip.innerText()) === 'You, Hal and Zoe reacted with 👍', `focus: ${await tip.innerText()}`);
    await p.keyboard.press('Escape');
    await tip.waitFor({ state: 'hidden' });
    // Hal sees Gus by name.
    const hm = hal.page.getByTestId('message').filter({ hasText: 'react to me' });
    await hm.getByTestId('reaction').getByText('👍 3').waitFor();
    await hm.getByTestId('reaction').hover();
    await hm
      .getByTestId('reactors')
      .filter({ hasText: 'You, Zoe and Gus reacted with 👍' })
      .waitFor({ state: 'visible' });
    // Touch: a long press on the chip shows the names and leaves the reaction as it was.
    const ctx = await browser.newContext({ viewport: { width: 390, height: 800 }, hasTouch: true, isMobile: true });
    const tp = await ctx.newPage();
    await tp.goto(p.url());
    await tp.getByLabel('Username or email').fill(zoe.username);
    await tp.getByLabel('Password').fill(PASSWORD);
    await tp.locator('form').getByRole('button', { name: 'Log in' }).click();
    // The page was opened at the room's URL: the room itself shows (on a phone, without the list).
    const tchip = tp.getByTestId('message').filter({ hasText: 'react to me' }).getByTestId('reaction');
    await tchip.getByText('👍 3').waitFor({ timeout: 15000 });
    // The history's membership lines arrive just after the messages (the first row is then
    // redrawn below them): wait for them, then for a chip that stays put.
    await tp.getByTestId('system-line').filter({ hasText: 'Gus added you' }).waitFor({ timeout: 15000 });
    let box = null;
    for (let i = 0; i < 20 && !box; i++) {
      box = await tchip.boundingBox();
      if (!box) await tp.waitForTimeout(100);
    }
    assert(box, 'the chip is on screen');
    const cdp = await ctx.newCDPSession(tp);
    const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    const ttip = tp.getByTestId('message').filter({ hasText: 'react to me' }).getByTestId('reactors');
    await ttip.waitFor({ state: 'visible', timeout: 3000 });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    assert((await ttip.innerText()) === 'You, Hal and Gus reacted with 👍', `long press: ${await ttip.innerText()}`);
    await tp.waitForTimeout(500);
    assert((await tchip.innerText()).includes('👍 3'), `not toggled: ${await tchip.innerText()}`);
    assert((await tchip.getAttribute('aria-pressed')) === 'true', 'still mine');
    await ctx.close();
    await Promise.all([gus, hal, zoe].map((u) => u.context.close()));
  });
}
