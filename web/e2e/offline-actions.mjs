// E2E for offline actions (called from run.mjs): an edit, a delete and reactions made offline
// wait in the outbox (shown on their message as pending, kept across a reload), and are done in
// order on reconnect; a refused one shows as failed with Retry and Discard.

export async function offlineActionTests(h) {
  const { test, assert, newUser, openDm, openRoom, send, waitText, shot } = h;

  await test('offline actions: edit, delete and reactions queue offline (pending on the message, kept across a reload), replay in order on reconnect; a refused one fails with Retry/Discard', async () => {
    const [abe, cyd] = await Promise.all([newUser('abe'), newUser('cyd')]);
    await openDm(abe, cyd);
    for (const t of ['keep me', 'edit me', 'delete me']) await send(abe, t);
    await openRoom(cyd, 'Abe');
    await waitText(cyd, 'delete me');
    const p = abe.page;
    const msg = (t) => p.getByTestId('message').filter({ hasText: t });
    await waitText(abe, 'delete me');
    // The service worker must control the page before going offline (the reload below).
    await p.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await p.reload();
    await p.waitForFunction(() => !!navigator.serviceWorker.controller);
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await openRoom(abe, 'Cyd');
    await waitText(abe, 'delete me');

    await abe.context.setOffline(true);
    await p.getByTestId('banner').filter({ hasText: 'Offline' }).waitFor();
    // Edit (Up edits the last own message: use the action instead, on "edit me").
    const box = p.getByLabel('Message', { exact: true });
    await msg('edit me').hover();
    await msg('edit me').getByRole('button', { name: 'Edit', exact: true }).click();
    await box.fill('edited offline');
    await box.press('Enter');
    await msg('edited offline').getByTestId('pending-action').filter({ hasText: 'Saving the edit' }).waitFor();
    // Delete.
    await msg('delete me').hover();
    await msg('delete me').getByRole('button', { name: 'Delete', exact: true }).click();
    await p.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
    await msg('delete me').getByTestId('pending-action').filter({ hasText: 'Deleting' }).waitFor();
    // React, then take it back, then react with another: three in order.
    const keep = msg('keep me');
    await keep.hover();
    await keep.getByRole('button', { name: 'React', exact: true }).click();
    await keep.getByRole('button', { name: 'React 👍' }).click();
    await keep.getByRole('button', { name: /👍 1/ }).waitFor();
    await keep.getByRole('button', { name: /👍 1/ }).click();
    await keep.hover();
    await keep.getByRole('button', { name: 'React', exact: true }).click();
    await keep.getByRole('button', { name: 'React 🎉' }).click();
    await keep.getByRole('button', { name: /🎉 1/ }).waitFor();
    assert((await keep.getByRole('button', { name: /👍/ }).count()) === 0, 'the removed one is gone at once');
    await p.getByTestId('banner').filter({ hasText: '5 changes waiting to send' }).waitFor();
    await shot(abe, 'offline-actions-pending');
    // The other side sees nothing yet.
    assert((await cyd.page.getByTestId('message-body').filter({ hasText: 'edited offline' }).count()) === 0, 'not yet');

    // A reload while offline keeps all of it (IndexedDB) and shows it again.
    await p.reload();
    await p.getByTestId('banner').filter({ hasText: '5 changes waiting to send' }).waitFor({ timeout: 15000 });
    await openRoom(abe, 'Cyd');
    await msg('edited offline').getByTestId('pending-action').waitFor();
    await msg('delete me').getByTestId('pending-action').filter({ hasText: 'Deleting' }).waitFor();
    await keep.getByRole('button', { name: /🎉 1/ }).waitFor();

    // Back online: done in order; Cyd sees the edit, the delete and only 🎉.
    await abe.context.setOffline(false);
    await p
      .getByTestId('banner')
      .filter({ hasText: /^Connected$/ })
      .waitFor({ timeout: 20000 });
    await waitText(cyd, 'edited offline');
    await cyd.page.getByText('Message deleted').first().waitFor({ timeout: 15000 });
    const ckeep = cyd.page.getByTestId('message').filter({ hasText: 'keep me' });
    await ckeep.getByRole('button', { name: /🎉 1/ }).waitFor({ timeout: 15000 });
    assert((await ckeep.getByRole('button', { name: /👍/ }).count()) === 0, 'add then remove replayed in order');
    assert((await p.getByTestId('pending-action').count()) === 0, 'nothing pending');
    assert(
      (await cyd.page.getByTestId('message-body').filter({ hasText: 'delete me' }).count()) === 0,
      'deleted for the other side',
    );

    // A refused edit: Cyd deletes nothing of Abe's, so make one the server refuses — edit a
    // message that was deleted meanwhile (from another tab of Abe's, here over the UI's own queue).
    await send(abe, 'soon gone');
    // Sent, not just shown (a message still sending has no actions: it would stay so offline).
    await msg('soon gone').and(p.locator('[data-state="sent"]')).waitFor({ timeout: 15000 });
    await abe.context.setOffline(true);
    await p.getByTestId('banner').filter({ hasText: 'Offline' }).waitFor();
    await msg('soon gone').hover();
    await msg('soon gone').getByRole('button', { name: 'Delete', exact: true }).click();
    await p.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
    await msg('soon gone').hover();
    await msg('soon gone').getByRole('button', { name: 'Edit', exact: true }).click();
    await box.fill('too late');
    await box.press('Enter');
    await abe.context.setOffline(false);
    const failed = p.getByTestId('failed-action').filter({ hasText: 'Edit not saved.' });
    await failed.waitFor({ timeout: 20000 });
    await shot(abe, 'offline-actions-failed');
    assert((await failed.getByRole('button', { name: 'Retry' }).count()) === 1, 'Retry offered');
    await failed.getByRole('button', { name: 'Discard' }).click();
    await failed.waitFor({ state: 'detached' });
    assert((await p.getByTestId('banner').innerText()) === 'Connected', 'nothing left waiting');
    await Promise.all([abe, cyd].map((u) => u.context.close()));
  });
}
