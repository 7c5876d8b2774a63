// E2E for the look and feel (called from run.mjs): the first run after sign-up is shown once,
// the empty states tell a newcomer what to do (no rooms yet; a new group's invite link), the room
// header says who and how many, and at phone width the room list and the room are separate
// screens with a Back button.

export async function lookTests(h) {
  const { test, assert, newUser, send, waitText, shot, BASE_URL, PASSWORD } = h;
  let noor, omar, ezra;
  const welcome = (u) => u.page.getByTestId('onboarding');
  const heading = (u) => u.page.getByRole('heading', { level: 2 });
  const connected = (u) => u.page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });

  await test('look: the welcome after sign-up (name, picture, find people) shows once — not after a reload', async () => {
    [noor, omar] = await Promise.all([newUser('noor'), newUser('omar')]);
    const p = noor.page;
    await welcome(noor).waitFor();
    await p.getByRole('heading', { name: 'Welcome to JustUs, Noor' }).waitFor();
    assert(await welcome(noor).getByRole('button', { name: 'Profile picture…' }).isVisible(), 'a picture can be set');
    await shot(noor, 'look-welcome');
    // 1. The display name.
    await welcome(noor).getByLabel('Display name').fill('Noor N.');
    await welcome(noor).getByRole('button', { name: 'Save name' }).click();
    await p.getByTestId('welcome-name-status').filter({ hasText: 'Saved. You appear as “Noor N.”.' }).waitFor();
    // 3. Find people: Omar, and write to him from there.
    await welcome(noor).getByLabel('Search by username').fill(omar.username);
    await welcome(noor).getByRole('button', { name: 'Message Omar' }).click();
    await heading(noor).filter({ hasText: 'Omar' }).waitFor();
    assert((await welcome(noor).count()) === 0, 'opening a conversation ends the welcome');
    await send(noor, 'hi omar, found you');
    await waitText(noor, 'found you');
    // Not again: a reload at the home screen, then a sign-out and sign-in.
    await p.goto(`${BASE_URL}/`);
    await connected(noor);
    await p.getByTestId('empty-main').waitFor();
    assert((await welcome(noor).count()) === 0, 'no welcome after a reload');
    // Omar skipped it with "Start chatting": focus goes to the room list's first action.
    await welcome(omar).waitFor();
    await omar.page.getByRole('button', { name: 'Start chatting' }).click();
    await welcome(omar).waitFor({ state: 'detached' });
    assert(
      await omar.page.evaluate(() => document.activeElement?.closest('.side-actions') !== null),
      'focus on the room list actions',
    );
  });

  await test('look: empty states — no rooms yet offers "Start a conversation" with its two actions; a new group offers its invite link', async () => {
    ezra = await newUser('ezra');
    const p = ezra.page;
    await p.getByRole('button', { name: 'Start chatting' }).click();
    const empty = p.getByTestId('empty-rooms');
    await empty.getByRole('heading', { name: 'Start a conversation' }).waitFor();
    await p.getByTestId('empty-main').filter({ hasText: 'No conversations yet' }).waitFor();
    await shot(ezra, 'look-empty-rooms');
    // "Message someone" opens the person search, focused.
    await empty.getByRole('button', { name: 'Message someone' }).click();
    await p.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Search users by username');
    await p.keyboard.press('Escape');
    // "Create a group" opens the group form, focused on its name.
    await empty.getByRole('button', { name: 'Create a group' }).click();
    await p.waitForFunction(() => document.activeElement?.getAttribute('name') === 'name');
    await p.getByLabel('Group name').fill('Book club');
    await p.getByRole('button', { name: 'Create group' }).click();
    await heading(ezra).filter({ hasText: 'Book club' }).waitFor();
    assert((await empty.count()) === 0, 'the room list is no longer empty');
    // The new group: its invite link, and adding people.
    const roomEmpty = p.getByTestId('room-empty');
    await roomEmpty.getByRole('heading', { name: 'Book club is ready' }).waitFor();
    await roomEmpty.getByRole('button', { name: 'Get invite link' }).click();
    const link = await p.getByTestId('empty-invite-link').inputValue();
    assert(new RegExp(`^${BASE_URL}/invite/[\\w-]+$`).test(link), `an invite link: ${link}`);
    await shot(ezra, 'look-new-group');
    await roomEmpty.getByRole('button', { name: 'Add people' }).click();
    await p.getByRole('complementary', { name: 'Members' }).waitFor();
    await p.getByRole('button', { name: 'Close panel' }).click();
    // The link works: Omar follows it and is in the group.
    await omar.page.goto(link);
    await connected(omar);
    await omar.page.getByTestId('room-item').filter({ hasText: 'Book club' }).waitFor({ timeout: 15000 });
    // The first message ends the empty state.
    await send(ezra, 'welcome to the club');
    await waitText(ezra, 'welcome to the club');
    await roomEmpty.waitFor({ state: 'detached' });
  });

  await test('look: the room header shows the member count for a group and presence and username for a DM', async () => {
    const p = ezra.page;
    await p
      .getByTestId('member-count')
      .filter({ hasText: /^2 members$/ })
      .waitFor({ timeout: 15000 });
    const q = noor.page;
    await q.getByTestId('room-item').filter({ hasText: 'Omar' }).click();
    await heading(noor).filter({ hasText: 'Omar' }).waitFor();
    const sub = q.getByTestId('room-subtitle');
    await sub.filter({ hasText: `@${omar.username}` }).waitFor();
    // Omar's page is open: he is online (or away, when his tab counts as hidden).
    await q
      .getByTestId('dm-presence')
      .filter({ hasText: /^(Online|Away)$/ })
      .waitFor({ timeout: 15000 });
    await shot(noor, 'look-dm-header');
  });

  await test('look: at 390 px the room list and the room are separate screens; Back to rooms returns to the list, browser Back to the room', async () => {
    const p = noor.page;
    const list = p.getByRole('navigation', { name: 'Rooms' });
    const back = p.getByRole('button', { name: 'Back to rooms' });
    assert(!(await back.isVisible()), 'no Back button on a desktop');
    await p.setViewportSize({ width: 390, height: 800 });
    try {
      // The room (opened above) is the whole screen.
      await heading(noor).filter({ hasText: 'Omar' }).waitFor();
      assert(!(await list.isVisible()), 'the room list is hidden while a room is open');
      assert(await back.isVisible(), 'Back to rooms is shown');
      const roomUrl = p.url();
      await shot(noor, 'look-390-room');
      await back.click();
      await list.waitFor();
      assert(!(await p.locator('.room').isVisible()), 'the room is hidden on the list screen');
      assert(new URL(p.url()).pathname === '/', `the list is at / (${p.url()})`);
      await shot(noor, 'look-390-list');
      // The browser's Back comes back to the room.
      await p.goBack();
      await heading(noor).filter({ hasText: 'Omar' }).waitFor();
      assert(p.url() === roomUrl, `back at the room URL (${p.url()})`);
      assert(!(await list.isVisible()), 'the list is hidden again');
      // Opening another room from the list works the same way.
      await back.click();
      await list.getByTestId('room-item').filter({ hasText: 'Omar' }).click();
      await heading(noor).filter({ hasText: 'Omar' }).waitFor();
      assert(!(await list.isVisible()), 'a room picked from the list covers it');
    } finally {
      await p.setViewportSize({ width: 1100, height: 760 });
    }
  });

  await test('look: the welcome does not come back at the next sign-in', async () => {
    const p = noor.page;
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByRole('button', { name: 'Log out', exact: true }).click();
    await p.getByRole('tab', { name: 'Log in' }).click();
    await p.getByLabel('Username or email').fill(noor.username);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.locator('form').getByRole('button', { name: 'Log in' }).click();
    await connected(noor);
    await p.getByTestId('room-item').first().waitFor();
    await p.getByTestId('empty-main').waitFor();
    assert((await welcome(noor).count()) === 0, 'no welcome after signing in again');
  });
}
