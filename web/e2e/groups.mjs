// E2E for groups (called from run.mjs): "New group" with a member picker (search, chips, people
// chosen or already in the room not offered again), and member actions in a per-member menu
// (keyboard: arrows, Escape back to the button) instead of buttons on every row.

export async function groupTests(h) {
  const { test, assert, newUser, openRoom, shot } = h;

  await test('groups: New group with a member picker (chips, no repeats) and a per-member actions menu', async () => {
    const [pam, rex, sue, tom] = await Promise.all([newUser('pam'), newUser('rex'), newUser('sue'), newUser('tom')]);
    const p = pam.page;
    await p.getByRole('button', { name: 'New group' }).click();
    const form = p.getByRole('form', { name: 'New group' });
    await form.getByLabel('Group name').fill('Picked');
    const search = form.getByLabel('Search people to add');
    const chips = form.getByTestId('chosen-people');
    const choose = (u) => form.getByRole('button', { name: new RegExp(`^Choose .*@${u.username}\\)$`) });
    await search.fill(rex.username);
    await choose(rex).click();
    await chips.getByText('Rex').waitFor();
    assert(await search.evaluate((el) => el === document.activeElement), 'focus back in the search field');
    // Rex is chosen: searching him again offers no one.
    await search.fill('');
    await search.fill(rex.username);
    await form.getByRole('status').filter({ hasText: 'already chosen' }).waitFor();
    assert((await choose(rex).count()) === 0, 'a chosen person is not offered again');
    // Keyboard: Down from the field to the result, Enter chooses.
    await search.fill(sue.username);
    await choose(sue).waitFor();
    await search.press('ArrowDown');
    assert(await choose(sue).evaluate((el) => el === document.activeElement), 'Down goes to the results');
    await p.keyboard.press('Enter');
    await chips.getByText('Sue').waitFor();
    // A chip removes; choose again.
    await search.fill(tom.username);
    await choose(tom).click();
    await chips.getByRole('button', { name: 'Remove Tom' }).click();
    await chips.getByText('Tom').waitFor({ state: 'detached' });
    await shot(pam, 'groups-picker');
    await form.getByRole('button', { name: 'Create group with 3 people' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Picked' }).waitFor();
    for (const u of [rex, sue]) {
      await u.page.getByTestId('room-item').filter({ hasText: 'Picked' }).waitFor({ timeout: 15000 });
    }
    assert(
      (await tom.page.getByTestId('room-item').filter({ hasText: 'Picked' }).count()) === 0,
      'Tom (removed chip) was not added',
    );
    // The members panel: no search result for people already in the room.
    await p.getByRole('button', { name: 'Members' }).click();
    const panel = p.getByRole('complementary', { name: 'Members' });
    await panel
      .locator('.members')
      .filter({ hasText: `@${sue.username}` })
      .waitFor();
    await panel.getByLabel('Add a member by username').fill(rex.username);
    await panel.getByTestId('add-member-status').filter({ hasText: 'already a member' }).waitFor();
    assert((await panel.getByRole('button', { name: `Add ${rex.username}` }).count()) === 0, 'members not offered');
    await panel.getByLabel('Add a member by username').fill(tom.username);
    await panel.getByRole('button', { name: `Add ${tom.username}` }).waitFor();
    await panel.getByLabel('Add a member by username').fill('');
    // Member actions: one menu per member, not buttons on every row.
    for (const old of ['Promote', 'Kick', 'Ban', 'Demote'])
      assert((await panel.getByRole('button', { name: old, exact: true }).count()) === 0, `no ${old} button on rows`);
    const rexMenu = panel.getByRole('button', { name: 'Actions for Rex' });
    await rexMenu.click();
    const menu = panel.getByRole('menu', { name: 'Actions for Rex' });
    const items = await menu.getByRole('menuitem').allInnerTexts();
    assert(
      JSON.stringify(items) ===
        JSON.stringify(['Make admin', 'Make owner…', 'Mute…', 'Remove from group…', 'Ban…', 'Report…']),
      `the owner's actions: ${items}`,
    );
    assert(
      await menu
        .getByRole('menuitem')
        .first()
        .evaluate((el) => el === document.activeElement),
      'focus on the first action',
    );
    await p.keyboard.press('ArrowDown');
    assert(
      await menu.getByRole('menuitem', { name: 'Make owner…' }).evaluate((el) => el === document.activeElement),
      'Down moves',
    );
    await p.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    assert(await rexMenu.evaluate((el) => el === document.activeElement), 'Escape gives focus back to the button');
    await shot(pam, 'groups-member-menu-closed');
    // Keyboard all the way: open with Enter, pick "Make admin" with Enter.
    await p.keyboard.press('Enter');
    await menu.getByRole('menuitem', { name: 'Make admin' }).waitFor();
    await p.keyboard.press('Enter');
    await panel
      .locator('.members li')
      .filter({ hasText: `@${rex.username} · admin` })
      .waitFor();
    await rexMenu.click();
    await menu.getByRole('menuitem', { name: 'Remove as admin' }).waitFor();
    await p.keyboard.press('Escape');
    // Remove Sue from the menu.
    await panel.getByRole('button', { name: 'Actions for Sue' }).click();
    await panel
      .getByRole('menu', { name: 'Actions for Sue' })
      .getByRole('menuitem', { name: 'Remove from group…' })
      .click();
    // Asked first, with an optional reason (for the audit log).
    await p.getByRole('dialog', { name: 'Remove Sue from the group?' }).getByRole('button', { name: 'Remove' }).click();
    await panel
      .locator('.members')
      .filter({ hasText: `@${sue.username}` })
      .waitFor({ state: 'detached' });
    await sue.page
      .getByTestId('room-item')
      .filter({ hasText: 'Picked' })
      .waitFor({ state: 'detached', timeout: 15000 });
    // Rex, an admin, gets no actions for the owner; the timeline shows the changes.
    await openRoom(rex, 'Picked');
    await rex.page.getByRole('button', { name: 'Members' }).click();
    await rex.page
      .locator('.members')
      .filter({ hasText: `@${pam.username}` })
      .waitFor();
    // Only a report: an admin does nothing to the owner.
    await rex.page.getByRole('button', { name: 'Actions for Pam' }).click();
    const pamItems = await rex.page
      .getByRole('menu', { name: 'Actions for Pam' })
      .getByRole('menuitem')
      .allInnerTexts();
    assert(JSON.stringify(pamItems) === JSON.stringify(['Report…']), `nothing to do to the owner: ${pamItems}`);
    await rex.page.keyboard.press('Escape');
    await rex.page.getByRole('button', { name: 'Close panel' }).click();
    await rex.page.getByTestId('system-line').filter({ hasText: 'You are now an admin' }).waitFor();
    await rex.page.getByTestId('system-line').filter({ hasText: 'Sue was removed by Pam' }).waitFor();
    await Promise.all([pam, rex, sue, tom].map((u) => u.context.close()));
  });
}
