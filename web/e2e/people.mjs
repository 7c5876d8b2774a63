// E2E for people (called from run.mjs): generated initials avatars everywhere, an uploaded
// picture replacing them, and the profile card (from a name in the timeline or the member
// list): who it is, "Message" opens the DM, block and unblock.
import { makePng } from './media.mjs';

export async function peopleTests(h) {
  const { test, assert, newUser, openDm, openRoom, send, waitText, shot } = h;
  let rae, sol;

  await test('people: initials avatars in the timeline, room list and header; an uploaded picture replaces them', async () => {
    [rae, sol] = await Promise.all([newUser('rae'), newUser('sol')]);
    await openDm(rae, sol);
    await send(rae, 'hi sol');
    await openRoom(sol, 'Rae');
    await waitText(sol, 'hi sol');
    const p = sol.page;
    const inMessage = p.getByTestId('message').filter({ hasText: 'hi sol' }).getByTestId('avatar');
    const inList = p.getByTestId('room-item').filter({ hasText: 'Rae' }).getByTestId('avatar');
    const inHeader = p.locator('.room-head').getByTestId('avatar');
    for (const a of [inMessage, inList, inHeader]) {
      await a.waitFor();
      assert((await a.innerText()).trim() === 'R', `initials: ${await a.innerText()}`);
    }
    const colours = await Promise.all(
      [inMessage, inList, inHeader].map((a) => a.evaluate((el) => getComputedStyle(el).backgroundColor)),
    );
    assert(new Set(colours).size === 1, `one colour per person: ${colours}`);
    // Rae uploads a picture.
    const r = rae.page;
    await r.getByRole('button', { name: 'Settings' }).click();
    await r
      .getByLabel('Choose a picture')
      .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: makePng(200, 200) });
    await r.getByRole('button', { name: 'Save picture' }).click();
    await r.getByText('Picture saved.').waitFor({ timeout: 15000 });
    await r.getByRole('button', { name: 'Back', exact: true }).click();
    await r
      .getByTestId('message')
      .filter({ hasText: 'hi sol' })
      .locator('[data-testid=avatar] img')
      .waitFor({ timeout: 10000 });
    // Sol sees it once Rae's entry is refreshed (opening the room reloads its members).
    await p.reload();
    await p
      .getByTestId('message')
      .filter({ hasText: 'hi sol' })
      .locator('[data-testid=avatar] img')
      .waitFor({ timeout: 15000 });
    await p.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid=message] [data-testid=avatar] img')].some(
        (i) => i.complete && i.naturalWidth > 0,
      ),
    );
    await shot(sol, 'people-avatars');
  });

  await test('people: the profile card opens from a name, shows who it is, messages the person, blocks and unblocks', async () => {
    const p = sol.page;
    // From the timeline.
    const name = p
      .getByTestId('message')
      .filter({ hasText: 'hi sol' })
      .getByRole('button', { name: 'Rae, open profile' });
    await name.click();
    const card = p.getByRole('dialog', { name: 'Rae' });
    await card.waitFor();
    await card.getByText(`@${rae.username}`).waitFor();
    assert(await card.getByRole('button', { name: 'Close' }).isVisible(), 'a close button');
    await card.getByRole('button', { name: 'Block', exact: true }).click();
    await card.getByRole('button', { name: 'Unblock' }).waitFor();
    assert(await card.getByRole('button', { name: 'Message' }).isDisabled(), 'no DM while blocked');
    await shot(sol, 'people-card');
    await card.getByRole('button', { name: 'Unblock' }).click();
    await card.getByRole('button', { name: 'Block', exact: true }).waitFor();
    await p.keyboard.press('Escape');
    await card.waitFor({ state: 'detached' });
    assert(await name.evaluate((el) => el === document.activeElement), 'focus back on the name');
    // From the member list of a group: "Message" opens the DM.
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill('Duo');
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Duo' }).waitFor();
    await p.getByRole('button', { name: 'Members' }).click();
    await p.getByLabel('Add a member by username').fill(rae.username);
    await p.getByRole('button', { name: `Add ${rae.username}` }).click();
    await p.getByRole('button', { name: 'Rae, open profile' }).click();
    await card.getByRole('button', { name: 'Message' }).click();
    await card.waitFor({ state: 'detached' });
    await p.getByRole('heading', { level: 2 }).filter({ hasText: 'Rae' }).waitFor();
    await waitText(sol, 'hi sol');
    await p.waitForFunction(() => document.activeElement?.id === 'composer-input');
  });

  await test("people: a renamed person's new name reaches the others live (room list, timeline, member list, header); last seen once they leave", async () => {
    const [bea, cato] = await Promise.all([newUser('bea'), newUser('cato')]);
    const b = bea.page;
    await openDm(bea, cato);
    await send(bea, 'hi cato');
    await openRoom(cato, 'Bea');
    await send(cato, 'hello from cato');
    await waitText(bea, 'hello from cato');
    // Bea also shares a group with him, its members panel open.
    await b.getByRole('button', { name: 'New group' }).click();
    await b.getByLabel('Group name').fill('Renames');
    await b.getByRole('button', { name: 'Create group' }).click();
    await b.getByRole('heading', { level: 2 }).filter({ hasText: 'Renames' }).waitFor();
    await b.getByRole('button', { name: 'Members' }).click();
    await b.getByLabel('Add a member by username').fill(cato.username);
    await b.getByRole('button', { name: `Add ${cato.username}` }).click();
    await b.locator('.members').getByRole('button', { name: 'Cato, open profile' }).waitFor();
    // Cato renames himself in Settings.
    const c = cato.page;
    await c.getByRole('button', { name: 'Settings' }).click();
    await c.getByLabel('Display name').fill('Cato the Elder');
    await c.getByRole('button', { name: 'Save', exact: true }).click();
    await c.getByTestId('name-status').filter({ hasText: 'Saved' }).waitFor();
    // Bea, without a reload: the member list, then the room list and the DM's header and timeline.
    await b
      .locator('.members')
      .getByRole('button', { name: 'Cato the Elder, open profile' })
      .waitFor({ timeout: 10000 });
    await b.getByTestId('room-item').filter({ hasText: 'Cato the Elder' }).waitFor();
    await b.getByTestId('room-item').filter({ hasText: 'Cato the Elder' }).click();
    await b.getByRole('heading', { level: 2 }).filter({ hasText: 'Cato the Elder' }).waitFor();
    await b
      .getByTestId('message')
      .filter({ hasText: 'hello from cato' })
      .getByRole('button', { name: 'Cato the Elder, open profile' })
      .waitFor();
    // Cato leaves (his last tab closes): after the presence grace the DM's header says when he
    // was last seen, and so does his profile card.
    await cato.context.close();
    await b
      .getByTestId('dm-presence')
      .filter({ hasText: /Last seen (just now|1 min ago)/ })
      .waitFor({ timeout: 60000 });
    await b
      .getByTestId('message')
      .filter({ hasText: 'hello from cato' })
      .getByRole('button', { name: 'Cato the Elder, open profile' })
      .click();
    await b
      .getByTestId('profile-last-seen')
      .filter({ hasText: /Last seen/ })
      .waitFor();
    await b.keyboard.press('Escape');
    await bea.context.close();
  });
}
