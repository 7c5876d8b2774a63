// E2E for invite links (called from run.mjs): a signed-out person following one sees the group's
// name and size before signing in, and after creating an account (or logging in) lands in the
// group; a dead link says so.
import { makeGroup } from './reactions.mjs';

export async function inviteTests(h) {
  const { test, assert, newUser, shot, browser, BASE_URL, PASSWORD, rest } = h;

  await test('invites: a signed-out person following an invite link is told so, and lands in the group after sign-up or log-in', async () => {
    const uli = await newUser('uli');
    await makeGroup(uli, 'Invited here', []);
    const p = uli.page;
    await p.getByRole('button', { name: 'Members' }).click();
    await p.getByRole('button', { name: 'Create invite' }).click();
    const code = (await p.getByTestId('invite-code').innerText()).trim();
    await p.getByRole('button', { name: 'Close panel' }).click();
    const roomPath = new URL(p.url()).pathname;
    assert(roomPath.startsWith('/rooms/'), `owner in the room: ${roomPath}`);

    // A new person: the sign-in screen names the group (the preview needs no account) and starts
    // on Create account.
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const np = await ctx.newPage();
    await np.goto(`${BASE_URL}/invite/${code}`);
    await np
      .getByTestId('invited')
      .getByRole('heading', { name: 'You’re invited to Invited here (1 member)' })
      .waitFor({ timeout: 10000 });
    assert(
      (await np.getByRole('tab', { name: 'Create account' }).getAttribute('aria-selected')) === 'true',
      'starts on Create account',
    );
    await shot({ page: np }, 'invite-landing');
    const vera = `vera${uli.username.slice(3)}`;
    await np.getByLabel('Username').fill(vera);
    await np.getByLabel('Display name (optional)').fill('Vera');
    await np.getByLabel('Password').fill(PASSWORD);
    await np.locator('form').getByRole('button', { name: 'Create account' }).click();
    await np
      .locator('.room-head')
      .getByRole('heading', { level: 2 })
      .filter({ hasText: 'Invited here' })
      .waitFor({ timeout: 15000 });
    assert(new URL(np.url()).pathname === roomPath, `the group's URL: ${np.url()}`);
    await np.getByTestId('room-item').filter({ hasText: 'Invited here' }).waitFor();
    await np.getByTestId('system-line').filter({ hasText: 'You joined' }).waitFor();
    // The owner sees her arrive.
    await p.getByTestId('system-line').filter({ hasText: 'Vera joined' }).waitFor({ timeout: 15000 });
    // Still there after a reload (the room stays in the list; no "Pick a conversation").
    await np.reload();
    await np
      .locator('.room-head')
      .getByRole('heading', { level: 2 })
      .filter({ hasText: 'Invited here' })
      .waitFor({ timeout: 15000 });
    await ctx.close();

    // Someone with an account logs in from the link.
    await rest('POST', '/auth/register', null, {
      username: `wyn${uli.username.slice(3)}`,
      password: PASSWORD,
      display_name: 'Wyn',
    });
    const ctx2 = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const wp = await ctx2.newPage();
    await wp.goto(`${BASE_URL}/invite/${code}`);
    await wp
      .getByTestId('invited')
      .getByRole('heading', { name: /You’re invited to Invited here \(2 members\)/ })
      .waitFor();
    await wp.getByRole('tab', { name: 'Log in' }).click();
    await wp.getByLabel('Username or email').fill(`wyn${uli.username.slice(3)}`);
    await wp.getByLabel('Password').fill(PASSWORD);
    await wp.locator('form').getByRole('button', { name: 'Log in' }).click();
    await wp
      .locator('.room-head')
      .getByRole('heading', { level: 2 })
      .filter({ hasText: 'Invited here' })
      .waitFor({ timeout: 15000 });
    assert(new URL(wp.url()).pathname === roomPath, `the group's URL after log-in: ${wp.url()}`);
    await ctx2.close();

    // A dead link: the app says the invite could not be used, after signing in.
    const ctx3 = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const bp = await ctx3.newPage();
    await bp.goto(`${BASE_URL}/invite/no-such-invite`);
    await bp.getByTestId('invited').getByRole('heading', { name: 'This invite link is no longer valid' }).waitFor();
    await bp.getByLabel('Username').fill(`xan${uli.username.slice(3)}`);
    await bp.getByLabel('Password').fill(PASSWORD);
    await bp.locator('form').getByRole('button', { name: 'Create account' }).click();
    await bp.getByTestId('invite-note').filter({ hasText: 'The invite could not be used' }).waitFor({ timeout: 15000 });
    assert(new URL(bp.url()).pathname === '/', `home: ${bp.url()}`);
    await ctx3.close();
    await uli.context.close();
  });
}
