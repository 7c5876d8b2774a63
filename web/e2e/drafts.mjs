// E2E for drafts and the unread indicators (called from run.mjs): what was typed survives a room
// switch and a reload and marks its room in the list; the tab title and the favicon carry the
// unread count.

export async function draftTests(h) {
  const { test, assert, newUser, openDm, openRoom, send, waitText } = h;
  let pia, quinn;
  const box = (u) => u.page.getByLabel('Message', { exact: true });
  // Polls IndexedDB (page.evaluate awaits the promise; waitForFunction would not) until the
  // drafts saved there number n.
  const draftsSaved = async (u, n) => {
    const count = () =>
      u.page.evaluate(
        () =>
          new Promise((resolve) => {
            const req = indexedDB.open('justus');
            req.onsuccess = () => {
              const get = req.result.transaction('kv').objectStore('kv').get('drafts');
              get.onsuccess = () => {
                resolve(Object.keys(get.result ?? {}).length);
                req.result.close();
              };
              get.onerror = () => resolve(-1);
            };
            req.onerror = () => resolve(-1);
          }),
      );
    for (let i = 0; ; i++) {
      const c = await count();
      if (c === n) return;
      if (i > 100) throw new Error(`drafts saved: ${c}, want ${n}`);
      await u.page.waitForTimeout(100);
    }
  };

  await test('drafts: typed text survives switching rooms and a reload, and the room list marks the room', async () => {
    [pia, quinn] = await Promise.all([newUser('pia'), newUser('quinn')]);
    await openDm(pia, quinn);
    await send(pia, 'hello quinn');
    const p = pia.page;
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill('Notes');
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Notes' }).waitFor();
    await box(pia).fill('half written thought');
    await openRoom(pia, 'Quinn');
    const notesItem = p.getByTestId('room-item').filter({ hasText: 'Notes' });
    await notesItem.getByTestId('draft').filter({ hasText: 'half written thought' }).waitFor();
    assert((await box(pia).inputValue()) === '', 'the other room starts empty');
    await box(pia).fill('a second draft');
    await openRoom(pia, 'Notes');
    assert((await box(pia).inputValue()) === 'half written thought', 'the draft is back');
    await p.getByTestId('room-item').filter({ hasText: 'Quinn' }).getByTestId('draft').waitFor();
    await draftsSaved(pia, 2);
    await p.reload();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Notes' }).waitFor({ timeout: 15000 });
    await p.waitForFunction(() => document.getElementById('composer-input')?.value === 'half written thought');
    await p.getByTestId('room-item').filter({ hasText: 'Quinn' }).getByTestId('draft').waitFor();
    // Sending clears it.
    await openRoom(pia, 'Quinn');
    assert((await box(pia).inputValue()) === 'a second draft', 'the DM draft after the reload');
    await box(pia).press('Enter');
    await waitText(pia, 'a second draft');
    await openRoom(pia, 'Notes');
    await p.getByTestId('room-item').filter({ hasText: 'Quinn' }).getByTestId('draft').waitFor({ state: 'detached' });
    await draftsSaved(pia, 1);
  });

  await test('drafts: the unread count shows in the tab title and as a favicon badge', async () => {
    const p = pia.page;
    await openRoom(pia, 'Notes');
    assert((await p.title()) === 'JustUs', `no unread: ${await p.title()}`);
    await openRoom(quinn, 'Pia');
    await send(quinn, 'one');
    await send(quinn, 'two');
    await p.waitForFunction(() => document.title === '(2) JustUs');
    await p.waitForFunction(() => document.querySelector('link[rel=icon]')?.dataset.unread === '2');
    const href = await p.evaluate(() => document.querySelector('link[rel=icon]').href);
    assert(href.startsWith('data:image/png'), 'a drawn badge');
    await openRoom(pia, 'Quinn');
    await p.waitForFunction(() => document.title === 'JustUs');
    await p.waitForFunction(() => document.querySelector('link[rel=icon]')?.dataset.unread === '0');
  });
}
