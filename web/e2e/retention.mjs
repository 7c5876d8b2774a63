// E2E for retention (called from run.mjs): a group admin chooses how long the room keeps
// messages in the members panel; both the admin and a member see it in the room header, and
// the member sees what applies in the panel without a control.
export async function retentionTests(h) {
  const { test, assert, newUser, openRoom } = h;

  await test('retention: an admin sets "delete after 7 days"; the header tells both members, live', async () => {
    const [ivy, jon] = await Promise.all([newUser('ivy'), newUser('jon')]);
    const p = ivy.page;
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill('Fleeting');
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Fleeting' }).waitFor();
    await p.getByRole('button', { name: 'Members' }).click();
    await p.getByLabel('Add a member by username').fill(jon.username);
    await p.getByRole('button', { name: `Add ${jon.username}` }).click();
    await p
      .locator('.members')
      .filter({ hasText: `@${jon.username}` })
      .waitFor();
    assert((await p.getByTestId('retention-note').count()) === 0, 'no note while messages are kept');
    await openRoom(jon, 'Fleeting');
    await p.getByLabel('Keep messages').selectOption({ label: 'Delete after 7 days' });
    await p.getByTestId('retention-note').filter({ hasText: 'Messages disappear after 7 days' }).waitFor();
    // The member learns it from the room.updated event, without reloading.
    await jon.page.getByTestId('retention-note').filter({ hasText: 'Messages disappear after 7 days' }).waitFor();
    await jon.page.getByRole('button', { name: 'Members' }).click();
    await jon.page.getByTestId('retention-state').filter({ hasText: 'Messages disappear after 7 days.' }).waitFor();
    assert((await jon.page.getByLabel('Keep messages').count()) === 0, 'members get no control');
    // Back to the server's policy (this server keeps messages forever): the note goes.
    await p.getByLabel('Keep messages').selectOption({ label: 'Keep messages forever' });
    await jon.page.getByTestId('retention-state').filter({ hasText: 'Messages are kept.' }).waitFor();
    assert((await p.getByTestId('retention-note').count()) === 0, 'the note is gone');
    await Promise.all([ivy.context.close(), jon.context.close()]);
  });
}
