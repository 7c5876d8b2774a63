// E2E for consent to be added (called from run.mjs): Settings → Privacy "Who can add me to
// groups"; an add that the setting turns into an invitation says "Invitation sent" to the adder
// (new-group picker and the members panel, and "already invited" the second time); the invitee
// sees the invitation live in the sidebar, accepts it and lands in the group, or declines it.
// Also: a muted member's React and Edit are gone while the mute lasts.

export async function consentTests(h) {
  const { test, assert, newUser, send, waitText, shot } = h;

  await test('consent: "Nobody" turns adds into invitations — the adder is told, the invitee accepts one live and declines another', async () => {
    const [ingrid, otto] = await Promise.all([newUser('ingrid'), newUser('otto')]);
    const o = otto.page;
    const p = ingrid.page;

    // Otto: Settings → Privacy → Nobody; kept (read back from GET /users/me after a reload).
    await o.getByRole('button', { name: 'Settings' }).click();
    const who = o.getByLabel('Who can add me to groups');
    await who.waitFor();
    assert((await who.inputValue()) === 'anyone', `the default is Anyone: ${await who.inputValue()}`);
    await who.selectOption('nobody');
    await o.getByTestId('group-adds-status').filter({ hasText: 'Saved.' }).waitFor();
    await o.reload();
    await o.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    if (!(await o.getByLabel('Who can add me to groups').isVisible())) {
      await o.getByRole('button', { name: 'Settings' }).click();
    }
    await o.getByLabel('Who can add me to groups').waitFor();
    await o.waitForFunction(() => document.querySelector('[data-testid="group-adds"]')?.value === 'nobody', undefined, {
      timeout: 10000,
    });
    await o.getByRole('button', { name: 'Back' }).click();

    // Ingrid makes a group with Otto chosen: told an invitation was sent, not that he was added.
    await p.getByRole('button', { name: 'New group' }).click();
    const form = p.getByRole('form', { name: 'New group' });
    await form.getByLabel('Group name').fill('Consent one');
    await form.getByLabel('Search people to add').fill(otto.username);
    await form.getByRole('button', { name: new RegExp(`^Choose .*@${otto.username}\\)$`) }).click();
    await form.getByRole('button', { name: 'Create group with 2 people' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Consent one' }).waitFor();
    await p.getByRole('status').filter({ hasText: 'Invitation sent to Otto' }).waitFor();

    // Otto sees it live (no reload), with who invited him and how many are in it; accepts.
    const inv = o.getByTestId('invitation').filter({ hasText: 'Consent one' });
    await inv.waitFor({ timeout: 15000 });
    const text = await inv.innerText();
    assert(text.includes('Ingrid invited you') && text.includes('1 member'), `the invitation's line: ${text}`);
    await o.getByRole('heading', { name: 'Invitations (1)' }).waitFor();
    await shot(otto, 'consent-invitation');
    await inv.getByRole('button', { name: 'Accept the invitation to Consent one' }).click();
    await o.getByRole('heading', { level: 2 }).filter({ hasText: 'Consent one' }).waitFor({ timeout: 15000 });
    await o.getByTestId('room-item').filter({ hasText: 'Consent one' }).waitFor();
    assert(new URL(o.url()).pathname.startsWith('/rooms/'), `in the group's URL: ${o.url()}`);
    await o.getByTestId('invitations').waitFor({ state: 'detached' });
    // Ingrid sees him in the members list.
    await p.getByRole('button', { name: 'Members' }).click();
    await p
      .locator('.members')
      .filter({ hasText: `@${otto.username}` })
      .waitFor({ timeout: 15000 });
    await p.getByRole('button', { name: 'Close panel' }).click();

    // A second group: adding Otto from the members panel sends an invitation; again says so plainly.
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByRole('form', { name: 'New group' }).getByLabel('Group name').fill('Consent two');
    await p.getByRole('button', { name: 'Create group', exact: true }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Consent two' }).waitFor();
    await p.getByRole('button', { name: 'Members' }).click();
    const panel = p.getByRole('complementary', { name: 'Members' });
    await panel.getByLabel('Add a member by username').fill(otto.username);
    await panel.getByRole('button', { name: `Add ${otto.username}` }).click();
    await panel.getByTestId('add-outcome').filter({ hasText: 'Invitation sent to Otto' }).waitFor();
    assert(
      (await panel
        .locator('.members')
        .filter({ hasText: `@${otto.username}` })
        .count()) === 0,
      'Otto is not listed as a member',
    );
    await panel.getByRole('button', { name: `Add ${otto.username}` }).click();
    await panel.getByTestId('add-outcome').filter({ hasText: 'Otto has already been invited' }).waitFor();

    // Otto declines this one: it goes, and the group is not in his list.
    const inv2 = o.getByTestId('invitation').filter({ hasText: 'Consent two' });
    await inv2.waitFor({ timeout: 15000 });
    await inv2.getByRole('button', { name: 'Decline the invitation to Consent two' }).click();
    await inv2.waitFor({ state: 'detached' });
    assert((await o.getByTestId('room-item').filter({ hasText: 'Consent two' }).count()) === 0, 'not a member');
    // Gone for good: not back after a reload.
    await o.reload();
    await o.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await o.getByTestId('room-item').filter({ hasText: 'Consent one' }).waitFor();
    assert((await o.getByTestId('invitation').count()) === 0, 'no invitation after the reload');
    await Promise.all([ingrid.context.close(), otto.context.close()]);
  });

  await test('mute: a muted member has no React or Edit (reaction chips do not toggle) until unmuted', async () => {
    const [petra, rurik] = await Promise.all([newUser('petra'), newUser('rurik')]);
    const p = petra.page;
    const r = rurik.page;
    // Rurik allows anyone (the default): the add is an add, and no invitation is mentioned.
    await p.getByRole('button', { name: 'New group' }).click();
    const form = p.getByRole('form', { name: 'New group' });
    await form.getByLabel('Group name').fill('Quiet room');
    await form.getByLabel('Search people to add').fill(rurik.username);
    await form.getByRole('button', { name: new RegExp(`^Choose .*@${rurik.username}\\)$`) }).click();
    await form.getByRole('button', { name: 'Create group with 2 people' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Quiet room' }).waitFor();
    assert((await p.getByRole('status').filter({ hasText: 'Invitation sent' }).count()) === 0, 'no invitation');
    await send(petra, 'petra speaks');
    await r.getByTestId('room-item').filter({ hasText: 'Quiet room' }).click({ timeout: 15000 });
    await waitText(rurik, 'petra speaks');
    await send(rurik, 'rurik speaks');
    await waitText(rurik, 'rurik speaks');
    const theirs = r.getByTestId('message').filter({ hasText: 'petra speaks' });
    const mine = r.getByTestId('message').filter({ hasText: 'rurik speaks' });
    await mine.locator('button[aria-label="Edit"]').waitFor({ state: 'attached' });
    await theirs.hover();
    await theirs.getByRole('button', { name: 'React', exact: true }).click();
    await theirs.getByRole('group', { name: 'Pick a reaction' }).getByRole('button').first().click();
    const chip = theirs.getByTestId('reaction');
    await chip.waitFor();

    // Petra mutes Rurik.
    await waitText(petra, 'rurik speaks');
    await p.getByRole('button', { name: 'Members' }).click();
    const panel = p.getByRole('complementary', { name: 'Members' });
    await panel.getByRole('button', { name: 'Actions for Rurik' }).click();
    await panel.getByRole('menu', { name: 'Actions for Rurik' }).getByRole('menuitem', { name: 'Mute…' }).click();
    const dialog = p.getByRole('dialog', { name: 'Mute Rurik?' });
    await dialog.getByLabel('For').selectOption('60');
    await dialog.getByRole('button', { name: 'Mute', exact: true }).click();
    await panel.getByTestId('muted-badge').waitFor();

    // Rurik: no React, no Edit; the chip still names who reacted but is not a toggle.
    await r.getByTestId('muted-banner').waitFor({ timeout: 15000 });
    for (const m of [theirs, mine]) {
      assert((await m.locator('button[aria-label="React"]').count()) === 0, 'no React while muted');
    }
    assert((await mine.locator('button[aria-label="Edit"]').count()) === 0, 'no Edit while muted');
    assert((await chip.getAttribute('aria-disabled')) === 'true', 'the chip is disabled');
    const before = await chip.innerText();
    await chip.click({ force: true });
    await r.waitForTimeout(500);
    assert((await chip.innerText()) === before, `the chip did not toggle: ${before} → ${await chip.innerText()}`);
    await shot(rurik, 'mute-no-react-edit');

    // Unmuted: both come back.
    await panel.getByRole('button', { name: 'Actions for Rurik' }).click();
    await panel.getByRole('menu', { name: 'Actions for Rurik' }).getByRole('menuitem', { name: 'Unmute' }).click();
    await r.getByTestId('muted-banner').waitFor({ state: 'detached', timeout: 15000 });
    await mine.locator('button[aria-label="Edit"]').waitFor({ state: 'attached' });
    await theirs.locator('button[aria-label="React"]').waitFor({ state: 'attached' });
    assert((await chip.getAttribute('aria-disabled')) === null, 'the chip toggles again');
    await Promise.all([petra.context.close(), rurik.context.close()]);
  });
}
