// E2E for mentions (called from run.mjs): `@` lists the room's members as you type, the keyboard
// picks one, and the person mentioned sees the mention (and the message) highlighted.

export async function mentionTests(h) {
  const { test, assert, newUser, openRoom, waitText, shot } = h;

  await test('mentions: @ lists the members (keyboard navigable) and inserts the username; a mention of me is highlighted', async () => {
    const [tia, uma, ulla] = await Promise.all([newUser('tia'), newUser('uma'), newUser('ulla')]);
    const p = tia.page;
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill('Mentioners');
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Mentioners' }).waitFor();
    await p.getByRole('button', { name: 'Members' }).click();
    for (const u of [uma, ulla]) {
      await p.getByLabel('Add a member by username').fill(u.username);
      await p.getByRole('button', { name: `Add ${u.username}` }).click();
      await p
        .locator('.members')
        .filter({ hasText: `@${u.username}` })
        .waitFor();
    }
    await p.getByRole('button', { name: 'Close panel' }).click();
    const box = p.getByLabel('Message', { exact: true });
    await box.click();
    await p.keyboard.type('hello @u');
    const list = p.getByRole('listbox', { name: 'Mention someone' });
    await list.waitFor();
    const options = list.getByRole('option');
    assert((await options.count()) === 2, `two members start with u: ${await options.allInnerTexts()}`);
    assert(
      (await box.getAttribute('aria-controls')) === (await list.getAttribute('id')),
      'the composer says the list is open',
    );
    assert(await box.evaluate((el) => el === document.activeElement), 'typing stays in the composer');
    await p.keyboard.type('l');
    await options.filter({ hasText: 'Ulla' }).waitFor();
    assert((await options.count()) === 1, 'narrowed to Ulla');
    await p.keyboard.press('Backspace');
    await options.nth(1).waitFor();
    const second = (await options.nth(1).innerText()).includes('Ulla') ? 'ulla' : 'uma';
    await p.keyboard.press('ArrowDown');
    assert((await options.nth(1).getAttribute('aria-selected')) === 'true', 'Down moves the selection');
    assert(
      (await box.getAttribute('aria-activedescendant')) === (await options.nth(1).getAttribute('id')),
      'active descendant follows',
    );
    await shot(tia, 'mentions-autocomplete');
    await p.keyboard.press('Enter');
    await list.waitFor({ state: 'detached' });
    const target = second === 'ulla' ? ulla : uma;
    assert((await box.inputValue()) === `hello @${target.username} `, `inserted: ${await box.inputValue()}`);
    await p.keyboard.type('look');
    await p.keyboard.press('Enter');
    await waitText(tia, 'look');
    // Escape closes the list without cancelling anything else.
    await p.keyboard.type('@');
    await list.waitFor();
    await p.keyboard.press('Escape');
    await list.waitFor({ state: 'detached' });
    assert((await box.inputValue()) === '@', 'the text stays');
    // The owner may notify everyone: @room is offered.
    await box.fill('');
    await p.keyboard.type('@ro');
    await list.getByRole('option', { name: /Everyone in this room/ }).waitFor();
    await p.keyboard.press('Tab');
    assert((await box.inputValue()) === '@room ', `@room inserted: ${await box.inputValue()}`);
    // A username typed out in full: Enter sends (the list does not swallow it).
    await box.fill(`fully @${uma.username}`);
    await list.waitFor();
    await box.press('Enter');
    await waitText(tia, 'fully @');
    assert((await box.inputValue()) === '', 'sent');
    // The person mentioned sees it highlighted; the other member sees a plain mention.
    await openRoom(target, 'Mentioners');
    const msg = target.page.getByTestId('message').filter({ hasText: 'look' });
    await msg.getByTestId('mention').and(target.page.locator('.mention-me')).waitFor();
    assert(await msg.evaluate((el) => el.classList.contains('mentions-me')), 'the message is marked');
    const other = target === uma ? ulla : uma;
    await openRoom(other, 'Mentioners');
    const msgO = other.page.getByTestId('message').filter({ hasText: 'look' });
    await msgO.getByTestId('mention').waitFor();
    assert((await msgO.locator('.mention-me').count()) === 0, 'not highlighted for someone else');
    assert(!(await msgO.evaluate((el) => el.classList.contains('mentions-me'))), 'not marked for someone else');
    await shot(target, 'mentions-highlight');
    // A plain member is not offered @room.
    const tbox = target.page.getByLabel('Message', { exact: true });
    await tbox.fill('@');
    await target.page.getByRole('listbox', { name: 'Mention someone' }).waitFor();
    await tbox.fill('@ro');
    await target.page.getByRole('listbox', { name: 'Mention someone' }).waitFor({ state: 'detached' });
    await tbox.fill('');
  });
}
