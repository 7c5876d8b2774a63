// E2E accessibility (called from run.mjs): axe-core (a devDependency, injected from
// node_modules) finds no violation on the sign-in page, the welcome, the room list, a room with a
// conversation, the settings, search with results, a profile card, the emoji picker, a new
// group's invite link and the members panel — light and dark, on a desktop and at 390 px. The
// rule set of ../shared/tools/axe.sh: WCAG 2.0/2.1 A and AA plus axe's best practices.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/** Run axe in the page (its context bypasses the CSP, so the inline script runs); violations as lines. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  // Let pending renders and transitions (a theme switch fades button colours) settle, so
  // colours are measured as seen and not half-way.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
  const res = await page.evaluate(
    async (tags) =>
      await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    TAGS,
  );
  return res.violations.map(
    (v) =>
      `[${v.impact}] ${v.id}: ${v.help} -> ${v.nodes
        .slice(0, 4)
        .map(
          (n) =>
            `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.split('\n').slice(1, 2).join('').trim()})` : ''}`,
        )
        .join(', ')}`,
  );
}

export async function a11yTests(h) {
  const { test, assert, newUser, openDm, send, waitText, BASE_URL, browser } = h;

  await test('a11y: axe-core finds no violations on sign-in, welcome, room list, room, settings, search, profile card, emoji picker, a new group and its members (light and dark, desktop and 390 px)', async () => {
    const found = [];
    const check = async (page, where) => {
      const v = await axeViolations(page);
      if (v.length) found.push(`${where}:\n    ${v.join('\n    ')}`);
      console.log(`  # axe ${where}: ${v.length} violation(s)${v.length ? `\n    ${v.join('\n    ')}` : ''}`);
    };
    // Signed out.
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 }, bypassCSP: true });
    const lp = await ctx.newPage();
    for (const scheme of ['light', 'dark']) {
      await lp.emulateMedia({ colorScheme: scheme });
      await lp.goto(`${BASE_URL}/`);
      await lp.getByRole('tab', { name: 'Log in' }).waitFor();
      await check(lp, `sign-in (${scheme})`);
    }
    await lp.getByRole('tab', { name: 'Create account' }).click();
    await check(lp, 'create account (dark)');
    await ctx.close();

    const [ada, ike] = await Promise.all([newUser('ada', { bypassCSP: true }), newUser('ike', { bypassCSP: true })]);
    const p = ada.page;
    await p.getByTestId('onboarding').waitFor();
    await check(p, 'welcome');
    await p.getByRole('button', { name: 'Start chatting' }).click();
    await check(p, 'room list, empty');
    // A conversation: text, markdown, a reply and a reaction.
    await openDm(ada, ike);
    await send(ada, 'hello **ike**, the minutes are in `notes.md`');
    await send(ada, 'see https://example.com for the agenda');
    await ike.page.getByTestId('room-item').filter({ hasText: 'Ada' }).click();
    await waitText(ike, 'the agenda');
    await send(ike, 'thanks ada, reading the minutes now');
    await waitText(ada, 'reading the minutes');
    const msg = p.getByTestId('message').filter({ hasText: 'reading the minutes' });
    await msg.hover();
    await msg.getByRole('button', { name: 'React', exact: true }).click();
    await msg.getByRole('button', { name: 'React 👍' }).click();
    await msg.getByRole('button', { name: /👍 1/ }).waitFor();
    await p.mouse.move(0, 0);
    await check(p, 'room');
    // The room list with a room in it (nothing open).
    await p.goto(`${BASE_URL}/`);
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await p.getByTestId('room-item').first().waitFor();
    await check(p, 'room list');
    // Settings.
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
    await check(p, 'settings');
    await p.getByRole('button', { name: 'Back', exact: true }).click();
    // Search with results.
    await p.getByTestId('room-item').filter({ hasText: 'Ike' }).click();
    await waitText(ada, 'reading the minutes');
    await p.getByRole('button', { name: 'Search messages' }).click();
    await p.getByRole('searchbox', { name: 'Search messages' }).fill('minutes');
    await p.keyboard.press('Enter');
    await p.locator('.jump-list button').first().waitFor({ timeout: 15000 });
    await check(p, 'search');
    await p.getByRole('button', { name: 'Close panel' }).click();
    // A profile card.
    await p.getByRole('button', { name: 'Ike, open profile' }).first().click();
    await p.getByRole('dialog').waitFor();
    await check(p, 'profile card');
    await p.keyboard.press('Escape');
    // The emoji picker (lazy-loaded web component).
    await p.getByRole('button', { name: 'Insert emoji' }).click();
    const picker = p.getByRole('dialog', { name: 'Insert emoji' });
    await picker.getByRole('combobox').waitFor({ timeout: 15000 });
    await picker.getByRole('tab').first().waitFor();
    await check(p, 'emoji picker');
    await p.keyboard.press('Escape');
    // A new group: its empty state with the invite link, and the members panel.
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill('Minutes');
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByTestId('room-empty').getByRole('button', { name: 'Get invite link' }).click();
    await p.getByTestId('empty-invite-link').waitFor();
    await check(p, 'new group');
    await p.getByRole('button', { name: 'Members', exact: true }).click();
    await p.getByRole('complementary', { name: 'Members' }).waitFor();
    await check(p, 'members panel');
    await p.getByRole('button', { name: 'Close panel' }).click();
    await p.getByTestId('room-item').filter({ hasText: 'Ike' }).click();
    await waitText(ada, 'reading the minutes');
    // Dark theme: the room and the settings.
    await p.emulateMedia({ colorScheme: 'dark' });
    await check(p, 'room (dark)');
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
    await check(p, 'settings (dark)');
    await p.getByRole('button', { name: 'Back', exact: true }).click();
    // A phone: the room list and the room.
    await p.setViewportSize({ width: 390, height: 800 });
    await check(p, 'room (390 px, dark)');
    await p.getByRole('button', { name: 'Back to rooms' }).click();
    await p.getByRole('navigation', { name: 'Rooms' }).waitFor();
    await check(p, 'room list (390 px, dark)');
    await p.emulateMedia({ colorScheme: 'light' });
    await check(p, 'room list (390 px, light)');
    assert(!found.length, `axe violations:\n  ${found.join('\n  ')}`);
  });
}
