// E2E for emoji (called from run.mjs): the full picker (search, skin tones, keyboard) in the
// composer and for reactions, `:shortcode` completion, recently used emoji as quick reactions,
// the picker's data served by us (no CDN), and no CSP violation (style-src 'self').

export async function emojiTests(h) {
  const { test, assert, newUser, openDm, openRoom, waitText, shot, BASE_URL } = h;

  await test('emoji: picker in the composer (search, keyboard, skin tone), :shortcode: completion, reactions from the full picker become quick reactions; data is ours and CSP-clean', async () => {
    const [vic, wes] = await Promise.all([newUser('vic'), newUser('zed')]);
    const p = vic.page;
    const foreign = [];
    const data = [];
    p.on('request', (r) => {
      if (/\/assets\/data-[\w-]+\.json$/.test(r.url())) data.push(r.url());
      if (!r.url().startsWith(BASE_URL) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
        foreign.push(r.url());
    });
    const csp = [];
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
    });
    await openDm(vic, wes);
    const box = p.getByLabel('Message', { exact: true });

    // The composer's picker: focus lands in its search field; type, Down, Enter picks.
    const open = p.getByRole('button', { name: 'Insert emoji' });
    await open.click();
    const dialog = p.getByRole('dialog', { name: 'Insert emoji' });
    await dialog.waitFor();
    const search = dialog.getByRole('combobox');
    await search.waitFor();
    await p.waitForFunction(
      () =>
        document.activeElement?.tagName === 'EMOJI-PICKER' &&
        document.activeElement.shadowRoot.activeElement?.id === 'search',
    );
    // Categories are tabs; the first row is there.
    assert((await dialog.getByRole('tab').count()) >= 8, 'category tabs');
    await p.keyboard.type('party popper');
    await dialog
      .getByRole('option', { name: /party popper/i })
      .first()
      .waitFor();
    await shot(vic, 'emoji-picker');
    await p.keyboard.press('ArrowDown');
    await p.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    assert((await box.inputValue()).startsWith('🎉'), `inserted: ${await box.inputValue()}`);
    assert(await box.evaluate((el) => el === document.activeElement), 'focus back in the composer');

    // Escape closes it and focus returns to the button.
    await open.click();
    await dialog.getByRole('combobox').waitFor();
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert(await open.evaluate((el) => el === document.activeElement), 'focus back on Insert emoji');

    // Skin tone: chosen in the picker, used for the next pick (and remembered).
    await open.click();
    await dialog.getByRole('combobox').waitFor();
    await dialog.getByRole('button', { name: /Choose a skin tone/ }).click();
    await dialog.getByRole('option', { name: 'Medium', exact: true }).click();
    await dialog.getByRole('button', { name: /Choose a skin tone \(currently Medium\)/ }).waitFor();
    await dialog.getByRole('combobox').fill('thumbs up');
    await dialog
      .getByRole('option', { name: /thumbs up/i })
      .first()
      .click();
    await dialog.waitFor({ state: 'detached' });
    assert((await box.inputValue()).includes('👍🏽'), `medium tone: ${await box.inputValue()}`);

    // :shortcode completion: a list as you type, Enter picks; a closed :code: is replaced at once.
    await box.fill('');
    await box.focus();
    await p.keyboard.type('yes :unicor');
    const list = p.getByRole('listbox', { name: 'Emoji' });
    await list.getByRole('option', { name: /:unicorn:/ }).waitFor();
    assert(
      (await box.getAttribute('aria-controls')) === (await list.getAttribute('id')),
      'the composer says the list is open',
    );
    assert(
      (await box.getAttribute('aria-activedescendant')) === (await list.getByRole('option').first().getAttribute('id')),
      'the first option is active',
    );
    await shot(vic, 'emoji-shortcodes');
    await p.keyboard.press('Enter');
    await list.waitFor({ state: 'detached' });
    assert((await box.inputValue()) === 'yes 🦄 ', `completed: ${await box.inputValue()}`);
    await p.keyboard.type('and :tada:');
    await p.waitForFunction(() => document.querySelector('#composer-input').value === 'yes 🦄 and 🎉 ');
    await p.keyboard.type('done');
    await p.keyboard.press('Enter');
    await waitText(vic, 'yes 🦄 and 🎉 done');
    await openRoom(wes, 'Vic');
    await waitText(wes, 'yes 🦄 and 🎉 done');

    // Wes reacts from the full picker (More emoji → search → pick); both see the reaction.
    const w = wes.page;
    const msg = w.getByTestId('message').filter({ hasText: 'yes 🦄' });
    await msg.hover();
    await msg.getByRole('button', { name: 'React', exact: true }).click();
    await msg.getByRole('button', { name: 'More emoji' }).click();
    const rdialog = w.getByRole('dialog', { name: 'Pick a reaction' });
    await rdialog.getByRole('combobox').waitFor();
    await w.keyboard.type('hedgehog');
    await rdialog
      .getByRole('option', { name: /hedgehog/i })
      .first()
      .click();
    await rdialog.waitFor({ state: 'detached' });
    for (const u of [vic, wes])
      await u.page.getByTestId('message').filter({ hasText: 'yes 🦄' }).getByRole('button', { name: /🦔 1/ }).waitFor();
    // It is now the first quick reaction (recently used), also after a reload.
    await w.reload();
    await w.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await waitText(wes, 'yes 🦄');
    await msg.hover();
    await msg.getByRole('button', { name: 'React', exact: true }).click();
    const quick = msg.getByRole('group', { name: 'Pick a reaction' }).getByRole('button');
    assert(
      (await quick.first().getAttribute('aria-label')) === 'React 🦔',
      `recent first: ${await quick.first().getAttribute('aria-label')}`,
    );
    // A quick reaction from the row.
    await msg.getByRole('button', { name: 'React 👍' }).click();
    await msg.getByRole('button', { name: /👍 1/ }).waitFor();
    assert((await msg.locator('.reaction').count()) === 2, 'two chips');

    // The data came from this server (a build asset), never from a CDN; no CSP violation.
    assert(data.length > 0, 'the emoji data is a build asset of this server');
    assert(!foreign.length, `requests elsewhere: ${foreign.join(', ')}`);
    assert(!csp.length, `CSP violations: ${csp.join(' | ')}`);
    // Fewer open pages for the tests after this one.
    await Promise.all([vic, wes].map((u) => u.context.close()));
  });
}
