// E2E for trust and safety (called from run.mjs): per-room permissions in the group settings
// (the owner opens pinning to members, a member then pins; an admin cannot pick "Owner only");
// an instance admin suspends an account from the profile card (the member's open tab ends on the
// sign-in screen, a login says it is suspended, Settings → Reinstate lets them back); sign-up
// blocks from Settings (a sign-up from the range is refused, then allowed once lifted); a
// "Removed by an admin" tombstone read from history (a fresh sign-in with no cache).
// Usernames no other module registers: greta, hugo, iris, dagny (the second ADMIN_USERS), mallory,
// nils, tess, ugo.

export async function safetyTests(h) {
  const { test, assert, newUser, openRoom, send, waitText, shot, rest, browser, BASE_URL, PASSWORD } = h;
  const login = async (u) =>
    (await rest('POST', '/auth/login', null, { login: u.username, password: PASSWORD })).access_token;
  const idOf = async (tok, u) =>
    (await rest('GET', `/users?search=${u.username}&limit=5`, tok)).users.find((x) => x.username === u.username).id;
  /** A group made over REST by `owner` with `members` in it; everyone's browser shows it. */
  const group = async (owner, name, members) => {
    const tok = await login(owner);
    const room = await rest('POST', '/rooms', tok, { name });
    const ids = {};
    for (const m of members) {
      ids[m.name] = await idOf(tok, m);
      await rest('POST', `/rooms/${room.id}/members`, tok, { user_id: ids[m.name] });
    }
    for (const u of [owner, ...members])
      await u.page.getByTestId('room-item').filter({ hasText: name }).first().waitFor({ timeout: 15000 });
    return { room, tok, ids };
  };
  const panelOf = (u) => u.page.getByRole('complementary', { name: 'Members' });
  const openMembers = async (u) => {
    await u.page.getByRole('button', { name: 'Members', exact: true }).click();
    await panelOf(u).waitFor();
    return panelOf(u);
  };
  // Hover a message and click one of its actions (rows can be redrawn between the two: retry).
  const messageAction = async (u, text, name) => {
    const m = u.page.getByTestId('message').filter({ hasText: text });
    for (let i = 0; ; i++) {
      await m.hover();
      try {
        await m.getByRole('button', { name, exact: true }).click({ timeout: 2000 });
        return;
      } catch (e) {
        if (i >= 4) throw e;
      }
    }
  };
  /** Sign in on the sign-in screen already shown; returns the alert's text when `refused`. */
  const signIn = async (page, username, refused = false) => {
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username or email').fill(username);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Log in' }).click();
    if (refused) return form.getByRole('alert').innerText({ timeout: 15000 });
    await page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    return '';
  };
  /** A fresh browser (no cookie, no cache) on the sign-in screen. */
  const freshTab = async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log(`  [fresh pageerror] ${e.message}`));
    await page.goto(`${BASE_URL}/`);
    await page.getByRole('tab', { name: 'Log in' }).waitFor();
    return { context, page };
  };
  // The instance admin of these tests, signed up once when first needed.
  let dagny = null;
  const admin = async () => {
    dagny ??= await newUser(h.SAFETY_ADMIN);
    return dagny;
  };

  await test('safety: per-room permissions — the owner opens pinning to members in group settings, a member then pins from the message menu; an admin cannot choose “Owner only”', async () => {
    const [greta, hugo, iris] = await Promise.all([newUser('greta'), newUser('hugo'), newUser('iris')]);
    const { room, tok, ids } = await group(greta, 'Pinboard', [hugo, iris]);
    await rest('PATCH', `/rooms/${room.id}/members/${ids.iris}`, tok, { role: 'admin' });
    await Promise.all([greta, hugo, iris].map((u) => openRoom(u, 'Pinboard')));
    await send(hugo, 'pin me please');
    await waitText(greta, 'pin me please');
    // By default only admins pin: Hugo's message menu has no Pin, and he cannot invite.
    const hugoMsg = hugo.page.getByTestId('message').filter({ hasText: 'pin me please' });
    await hugoMsg.hover();
    await hugoMsg.getByRole('button', { name: 'Reply', exact: true }).waitFor();
    assert((await hugoMsg.getByRole('button', { name: 'Pin', exact: true }).count()) === 0, 'no Pin for a member');
    const hugoPanel = await openMembers(hugo);
    assert((await hugoPanel.getByRole('button', { name: 'Create invite' }).count()) === 0, 'no invite for a member');
    await hugo.page.getByRole('button', { name: 'Close panel' }).click();
    // Greta (owner) opens pinning to members.
    const panel = await openMembers(greta);
    const pin = panel.getByLabel('Who can pin messages');
    assert((await pin.inputValue()) === 'admin', `default: admins (${await pin.inputValue()})`);
    const labels = await pin.locator('option').allInnerTexts();
    assert(JSON.stringify(labels) === JSON.stringify(['Members', 'Admins', 'Owner only']), `choices: ${labels}`);
    await pin.selectOption('member');
    await panel.getByTestId('group-settings-status').filter({ hasText: 'Saved.' }).waitFor();
    await greta.page.getByTestId('system-line').filter({ hasText: 'You let members pin messages' }).waitFor();
    await hugo.page.getByTestId('system-line').filter({ hasText: 'Greta let members pin messages' }).waitFor();
    // Hugo pins live (no reload), and Greta sees it pinned.
    await messageAction(hugo, 'pin me please', 'Pin');
    await hugoMsg.hover();
    await hugoMsg.getByRole('button', { name: 'Unpin', exact: true }).waitFor({ timeout: 15000 });
    const pins = await rest('GET', `/rooms/${room.id}/pins`, tok);
    assert(
      pins.messages.some((m) => m.body === 'pin me please'),
      'pinned on the server',
    );
    // Greta opens inviting to members: Hugo gets Create invite and Add a member, live.
    await panel.getByLabel('Who can add people and create invite links').selectOption('member');
    await openMembers(hugo);
    await hugoPanel.getByRole('button', { name: 'Create invite' }).waitFor({ timeout: 15000 });
    await hugoPanel.getByLabel('Add a member by username').waitFor();
    await hugo.page.getByRole('button', { name: 'Close panel' }).click();
    // The owner is offered @room (admins may mention it by default)…
    const gretaBox = greta.page.getByLabel('Message', { exact: true });
    await greta.page.getByRole('button', { name: 'Close panel' }).click();
    await gretaBox.fill('@ro');
    await greta.page.getByRole('option').filter({ hasText: 'Everyone in this room' }).waitFor();
    await gretaBox.fill('');
    await openMembers(greta);
    // …then reserves it to the owner.
    await panel.getByLabel('Who can mention @room').selectOption('owner');
    await greta.page.getByTestId('system-line').filter({ hasText: 'You reserved @room to the owner' }).waitFor();
    await shot(greta, 'safety-permissions-owner');
    // Iris (admin): "Owner only" is disabled, and what is reserved to the owner is not hers to change.
    const irisPanel = await openMembers(iris);
    const invite = irisPanel.getByLabel('Who can add people and create invite links');
    await invite.waitFor();
    assert(!(await invite.isDisabled()), 'an admin changes who may invite');
    assert(
      await invite.locator('option[value="owner"]').evaluate((o) => o.disabled),
      '“Owner only” is disabled for an admin',
    );
    assert(!(await invite.locator('option[value="member"]').evaluate((o) => o.disabled)), '“Members” is not');
    await irisPanel.getByText('“Owner only” is for the owner to choose.').first().waitFor();
    const mention = irisPanel.getByLabel('Who can mention @room');
    await iris.page.waitForFunction(
      () => document.querySelector('[data-testid="permission-mention_room"]')?.value === 'owner',
      null,
      { timeout: 15000 },
    );
    assert(await mention.isDisabled(), 'reserved to the owner: disabled for an admin');
    await irisPanel.getByText('Reserved to the owner: only the owner can change this.').waitFor();
    await shot(iris, 'safety-permissions-admin');
    // And the mention list offers her no @room now.
    await iris.page.getByRole('button', { name: 'Close panel' }).click();
    const box = iris.page.getByLabel('Message', { exact: true });
    await box.fill('@ro');
    await iris.page.waitForTimeout(400);
    assert(
      (await iris.page.getByRole('option').filter({ hasText: 'Everyone in this room' }).count()) === 0,
      'no @room for an admin when it is reserved to the owner',
    );
    await box.fill('');
    await Promise.all([greta, hugo, iris].map((u) => u.context.close()));
  });

  await test('safety: an instance admin suspends a member from the profile card — the member’s tab goes to sign-in, a login says it is suspended; reinstated from Settings, they sign in', async () => {
    const d = await admin();
    const mallory = await newUser('mallory');
    await group(d, 'Watched', [mallory]);
    await Promise.all([openRoom(d, 'Watched'), openRoom(mallory, 'Watched')]);
    const panel = await openMembers(d);
    // Not on herself: her own card has no Suspend.
    await panel
      .locator('button.member-name')
      .filter({ hasText: `@${d.username}` })
      .click();
    const own = d.page.getByRole('dialog', { name: 'Dagny' });
    await own.getByRole('button', { name: 'Close' }).waitFor();
    assert((await own.getByRole('button', { name: 'Suspend account…' }).count()) === 0, 'not on myself');
    await own.getByRole('button', { name: 'Close' }).click();
    // The member menu offers it too.
    await panel.getByRole('button', { name: 'Actions for Mallory' }).click();
    await panel
      .getByRole('menu', { name: 'Actions for Mallory' })
      .getByRole('menuitem', { name: 'Suspend account…' })
      .waitFor();
    await d.page.keyboard.press('Escape');
    // From the profile card.
    await panel
      .locator('button.member-name')
      .filter({ hasText: `@${mallory.username}` })
      .click();
    const card = d.page.getByRole('dialog', { name: 'Mallory' });
    await card.getByRole('button', { name: 'Suspend account…' }).click();
    const dialog = d.page.getByRole('dialog', { name: 'Suspend Mallory’s account?' });
    await dialog.getByLabel('Reason (optional)').fill('spam run');
    // A bad range is refused next to its field, and nothing is suspended yet.
    await dialog.getByLabel('Also block sign-ups from (optional)').fill('not a range');
    await dialog.getByRole('button', { name: 'Suspend account' }).click();
    await dialog.getByText('Give an address range in CIDR notation').waitFor();
    await shot(d, 'safety-suspend-dialog');
    await dialog.getByLabel('Also block sign-ups from (optional)').fill('');
    await dialog.getByRole('button', { name: 'Suspend account' }).click();
    await dialog.waitFor({ state: 'detached' });
    await d.page.getByTestId('toast').filter({ hasText: 'Mallory’s account is suspended.' }).waitFor();
    // Mallory's open tab: the socket closes (4003) and the app goes to the sign-in screen.
    await mallory.page.getByRole('tab', { name: 'Log in' }).waitFor({ timeout: 15000 });
    await mallory.page.getByRole('tab', { name: 'Log in' }).click();
    const refused = await signIn(mallory.page, mallory.username, true);
    assert(refused.includes('This account has been suspended'), `the login says why: ${refused}`);
    await shot(mallory, 'safety-suspended-login');
    // Dagny: Settings → Suspended accounts → Reinstate; the audit log says both.
    await d.page.getByRole('button', { name: 'Settings' }).click();
    await d.page.getByRole('heading', { name: 'Suspended accounts' }).waitFor({ timeout: 15000 });
    const row = d.page.getByTestId('suspended').filter({ hasText: `@${mallory.username}` });
    await row.filter({ hasText: 'Suspended since' }).waitFor({ timeout: 15000 });
    await d.page
      .getByTestId('audit-entry')
      .filter({ hasText: 'Dagny suspended Mallory — spam run' })
      .waitFor({ timeout: 15000 });
    await row.scrollIntoViewIfNeeded();
    await shot(d, 'safety-suspended-list');
    await row.getByRole('button', { name: 'Reinstate Mallory' }).click();
    await d.page.getByRole('dialog', { name: 'Reinstate Mallory?' }).getByRole('button', { name: 'Reinstate' }).click();
    await d.page.getByTestId('toast').filter({ hasText: 'Mallory can sign in again.' }).waitFor();
    await row.waitFor({ state: 'detached', timeout: 15000 });
    await d.page.getByTestId('audit-entry').filter({ hasText: 'Dagny reinstated Mallory' }).waitFor({ timeout: 15000 });
    // Mallory signs in again.
    await signIn(mallory.page, mallory.username);
    await mallory.page.getByTestId('room-item').filter({ hasText: 'Watched' }).waitFor({ timeout: 15000 });
    await d.page.getByRole('button', { name: 'Back' }).click();
    await mallory.context.close();
  });

  await test('safety: sign-up blocks — the instance admin blocks 127.0.0.1 from Settings (bad and duplicate ranges refused at the field), a sign-up is refused with the reason, the block is removed and the sign-up works', async () => {
    const d = await admin();
    let lifted = false;
    try {
      await d.page.getByRole('button', { name: 'Settings' }).click();
      await d.page.getByRole('heading', { name: 'Sign-up blocks' }).waitFor({ timeout: 15000 });
      const form = d.page.getByRole('form', { name: 'Block sign-ups' });
      const note = d.page.getByTestId('signup-block-range-note');
      await form.getByLabel('Range').fill('10.0.0.0/4');
      await form.getByRole('button', { name: 'Block sign-ups' }).click();
      await note.filter({ hasText: 'too wide' }).waitFor();
      await form.getByLabel('Range').fill('127.0.0.1');
      await form.getByLabel('Reason (optional)').fill('e2e test');
      await form.getByRole('button', { name: 'Block sign-ups' }).click();
      const block = d.page.getByTestId('signup-block').filter({ hasText: '127.0.0.1/32' });
      await block.filter({ hasText: 'e2e test' }).waitFor({ timeout: 15000 });
      await form.getByLabel('Range').fill('127.0.0.1/32');
      await form.getByRole('button', { name: 'Block sign-ups' }).click();
      await note.filter({ hasText: 'already blocked' }).waitFor();
      await block.scrollIntoViewIfNeeded();
      await shot(d, 'safety-signup-blocks');
      // Someone signing up from here is told plainly.
      const { context, page } = await freshTab();
      await page.getByRole('tab', { name: 'Create account' }).click();
      const signup = page.getByRole('form', { name: 'Create account' });
      await signup.getByLabel('Username').fill(h.uname('nils'));
      await signup.getByLabel('Password').fill(PASSWORD);
      await signup.getByRole('button', { name: 'Create account' }).click();
      const said = await signup.getByRole('alert').innerText({ timeout: 15000 });
      assert(said === 'Sign-ups from your network are closed on this server.', `refused: ${said}`);
      await page.screenshot({ path: `${h.artifacts}/safety-signup-refused.png` });
      // The admin lifts it; the same form then works.
      await block.getByRole('button', { name: 'Remove the block on 127.0.0.1/32' }).click();
      await d.page
        .getByRole('dialog', { name: 'Remove the block on 127.0.0.1/32?' })
        .getByRole('button', { name: 'Remove block' })
        .click();
      await block.waitFor({ state: 'detached', timeout: 15000 });
      lifted = true;
      // The audit log is read again after each change: it has both.
      await d.page
        .getByTestId('audit-entry')
        .filter({ hasText: 'Dagny blocked sign-ups from 127.0.0.1/32 — e2e test' })
        .waitFor({ timeout: 15000 });
      await d.page
        .getByTestId('audit-entry')
        .filter({ hasText: 'Dagny lifted the sign-up block on 127.0.0.1/32' })
        .waitFor({ timeout: 15000 });
      await signup.getByRole('button', { name: 'Create account' }).click();
      await page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
      await d.page.getByRole('button', { name: 'Back' }).click();
      await context.close();
    } finally {
      // Never leave sign-ups blocked for the tests that follow.
      if (!lifted) {
        const tok = await login(d).catch(() => null);
        const blocks = tok
          ? await rest('GET', '/admin/signup-blocks', tok).catch(() => ({ blocks: [] }))
          : { blocks: [] };
        for (const b of blocks.blocks) await rest('DELETE', `/admin/signup-blocks/${b.id}`, tok).catch(() => {});
      }
    }
  });

  await test('safety: a message removed by an admin reads “Removed by an admin” from history (a fresh sign-in), one deleted by its sender “Message deleted”', async () => {
    const [tess, ugo] = await Promise.all([newUser('tess'), newUser('ugo')]);
    await group(tess, 'Tombs', [ugo]);
    await Promise.all([openRoom(tess, 'Tombs'), openRoom(ugo, 'Tombs')]);
    await send(ugo, 'this goes by an admin');
    await send(ugo, 'this goes by me');
    await send(ugo, 'this one stays');
    await waitText(tess, 'this one stays');
    await messageAction(tess, 'this goes by an admin', 'Remove message');
    const dialog = tess.page.getByRole('dialog', { name: 'Remove this message?' });
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await messageAction(ugo, 'this goes by me', 'Delete');
    await ugo.page
      .getByRole('alertdialog', { name: 'Delete this message?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await tess.page.getByTestId('deleted-note').filter({ hasText: 'Message deleted' }).waitFor({ timeout: 15000 });
    await ugo.context.close();
    // A new browser: nothing cached, so the tombstones come from GET /messages alone.
    const { context, page } = await freshTab();
    await signIn(page, ugo.username);
    await page.getByTestId('room-item').filter({ hasText: 'Tombs' }).first().click();
    await page.getByTestId('message-body').filter({ hasText: 'this one stays' }).waitFor({ timeout: 15000 });
    const notes = page.getByTestId('deleted-note');
    await notes.filter({ hasText: 'Removed by an admin' }).waitFor({ timeout: 15000 });
    await notes.filter({ hasText: 'Message deleted' }).waitFor();
    assert((await notes.count()) === 2, `two tombstones: ${await notes.count()}`);
    await page.screenshot({ path: `${h.artifacts}/safety-tombstones-history.png` });
    await Promise.all([tess.context.close(), context.close()]);
  });
}
