// AI end-to-end tests (run.mjs calls them with its helpers). justus runs with AI pointed at the
// fake provider in fake-ai.mjs for the whole run; rooms have AI off until an admin switches it on.
import { ASSISTANT_CHUNKS } from './fake-ai.mjs';

export async function aiTests(h) {
  const { test, assert, newUser, send, waitText, openRoom, messageAction, shot, sleep, fakeAi } = h;
  let dora, eli;
  const ROOM = 'Robots';
  const FULL = ASSISTANT_CHUNKS.join('');
  const composer = (u) => u.page.getByLabel('Message', { exact: true });
  const botMessages = (u) => u.page.getByTestId('message').filter({ has: u.page.getByTestId('ai-badge') });

  await test('AI: an admin turns AI on, a member asks @ai, both see the reply stream in and settle', async () => {
    [dora, eli] = await Promise.all([newUser('dora'), newUser('eli')]);
    const p = dora.page;
    await p.getByRole('button', { name: 'New group' }).click();
    await p.getByLabel('Group name').fill(ROOM);
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByRole('heading', { level: 2 }).filter({ hasText: ROOM }).waitFor();
    // Before AI is on: no AI controls in the room.
    assert((await p.getByTestId('smart-replies').count()) === 0, 'no smart replies while AI is off');
    await p.getByRole('button', { name: 'Members' }).click();
    await p.getByLabel('Add a member by username').fill(eli.username);
    await p.getByRole('button', { name: `Add ${eli.username}` }).click();
    await p
      .locator('.members')
      .filter({ hasText: `@${eli.username}` })
      .waitFor();
    const sw = p.getByRole('switch', { name: 'AI assistant in this room' });
    assert(!(await sw.isChecked()), 'AI starts off');
    await sw.check();
    // The assistant joins as a visible member.
    await p.locator('.members li').filter({ hasText: /@ai\b/ }).waitFor();
    await shot(dora, 'ai-01-switch');
    await p.getByRole('button', { name: 'Close panel' }).click();
    await openRoom(eli, ROOM);
    await eli.page.getByRole('button', { name: 'Suggest replies' }).waitFor();

    await send(eli, '@ai summarise');
    // Both see the preview grow with a caret, then the final edit replaces it.
    const seen = await Promise.all(
      [dora, eli].map(async (u) => {
        const streaming = u.page.getByTestId('ai-streaming');
        await streaming.filter({ hasText: ASSISTANT_CHUNKS[0].trim() }).waitFor({ timeout: 15000 });
        const partial = await streaming.innerText();
        const caret = await streaming.locator('.ai-caret').count();
        await botMessages(u).getByTestId('message-body').filter({ hasText: FULL }).waitFor({ timeout: 15000 });
        // The preview can show the full text a moment before the final edit replaces it: wait
        // for the edit (the preview goes), not for the text.
        await u.page.getByTestId('ai-streaming').waitFor({ state: 'detached', timeout: 15000 });
        return { partial, caret, left: await u.page.getByTestId('ai-streaming').count() };
      }),
    );
    for (const s of seen) {
      assert(s.caret === 1, 'a typing caret while streaming');
      assert(s.partial.length < FULL.length, `saw a partial answer: ${JSON.stringify(s.partial)}`);
      assert(s.left === 0, 'no streaming preview after the edit');
    }
    assert(
      (await botMessages(eli).getByTestId('reply-quote').filter({ hasText: '@ai summarise' }).count()) === 1,
      'the reply quotes the question',
    );
    assert((await botMessages(eli).locator('.edited').count()) === 0, 'the final answer is not marked edited');
    assert(
      fakeAi.state.calls.some((c) => c.kind === 'assistant' && c.stream && c.auth === 'Bearer test'),
      'streamed provider call with the key',
    );
    await shot(eli, 'ai-02-assistant');
  });

  await test('AI: translate a message, show the original; preferences and auto-translate live on the server', async () => {
    const p = eli.page;
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByLabel('Preferred language for translations').selectOption('fr');
    await p.getByText('Saved.', { exact: true }).waitFor();
    await p.keyboard.press('Escape'); // the back button shows on narrow screens only
    await openRoom(eli, ROOM);
    await send(dora, 'guten morgen team');
    await waitText(eli, 'guten morgen team');
    const before = fakeAi.state.calls.filter((c) => c.kind === 'translate').length;
    await messageAction(eli, 'guten morgen team', 'Translate');
    const msg = p.getByTestId('message').filter({ hasText: 'guten morgen team' });
    const tr = msg.getByTestId('translation');
    await tr.filter({ hasText: '[fr] GUTEN MORGEN TEAM' }).waitFor();
    assert((await tr.getAttribute('lang')) === 'fr', 'lang attribute on the translation');
    assert(
      (await msg.getByTestId('message-body').innerText()).includes('guten morgen team'),
      'the original stays above',
    );
    await shot(eli, 'ai-03-translation');
    await msg.getByRole('button', { name: 'Show original' }).click();
    await tr.waitFor({ state: 'detached' });
    // Translating again is served from the client's cache: no new provider call.
    await messageAction(eli, 'guten morgen team', 'Translate');
    await tr.waitFor();
    assert(
      fakeAi.state.calls.filter((c) => c.kind === 'translate').length === before + 1,
      'one provider call for two translations',
    );

    // Auto-translate, stored on the server: a fresh device (no local prefs) shows both settings.
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByRole('switch', { name: /Translate messages into my preferred language automatically/ }).check();
    await sleep(300);
    await p.evaluate(() => localStorage.removeItem('justus.prefs'));
    await p.reload();
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    // The reload keeps the place: the URL is /settings, so the settings are open again.
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
    await p.waitForFunction(
      () =>
        document.querySelector('select')?.closest('.settings') &&
        [...document.querySelectorAll('.settings select')].some((s) => s.value === 'fr'),
    );
    assert(
      await p.getByRole('switch', { name: /Translate messages into my preferred language automatically/ }).isChecked(),
      'auto-translate read from the server',
    );
    await p.keyboard.press('Escape'); // the back button shows on narrow screens only
    await openRoom(eli, ROOM);
    await send(dora, 'bis morgen');
    await p
      .getByTestId('message')
      .filter({ hasText: 'bis morgen' })
      .getByTestId('translation')
      .filter({ hasText: '[fr] BIS MORGEN' })
      .waitFor();
    // Own messages are not translated.
    await send(eli, 'merci beaucoup');
    await waitText(eli, 'merci beaucoup');
    await sleep(500);
    assert(
      (await p.getByTestId('message').filter({ hasText: 'merci beaucoup' }).getByTestId('translation').count()) === 0,
      'own message not auto-translated',
    );
  });

  await test('AI: catch me up summarises the unread messages privately, then the room is read', async () => {
    const p = eli.page;
    // Eli has read everything so far (Dora sees the receipt), then leaves the room.
    await dora.page.getByTestId('seen-by').filter({ hasText: 'Eli' }).waitFor();
    await p.evaluate(() => window.__justus.openRoom(null));
    for (const t of ['release moves to friday', 'qa signs off thursday', 'docs are ready']) await send(dora, t);
    await p.getByTestId('room-item').filter({ hasText: ROOM }).getByTestId('unread').waitFor();
    await openRoom(eli, ROOM);
    await p.getByTestId('catch-up').click();
    const panel = p.getByTestId('ai-summary');
    await panel.filter({ hasText: 'messages about the Friday release.' }).waitFor();
    // What was summarised: the new messages, not what Eli had read before (a message Eli sent
    // just before leaving may be included when its read marker had not reached the server yet).
    const data = fakeAi.state.calls.filter((c) => c.kind === 'summary').at(-1).data;
    const texts = data.messages.map((m) => m.text);
    assert(
      ['release moves to friday', 'qa signs off thursday', 'docs are ready'].every((t) => texts.includes(t)),
      `summarised the unread: ${texts}`,
    );
    assert(!texts.includes('guten morgen team') && !texts.includes('bis morgen'), `not what was read: ${texts}`);
    assert((await panel.innerText()).includes(`${texts.length} unread messages`), 'count shown');
    assert(await panel.evaluate((el) => el === document.activeElement), 'focus moves to the summary');
    // Private: Dora sees no summary; and Eli's room is marked read once it was shown.
    assert((await dora.page.getByTestId('ai-summary').count()) === 0, 'summary is private');
    await p.getByTestId('room-item').filter({ hasText: ROOM }).getByTestId('unread').waitFor({ state: 'detached' });
    await shot(eli, 'ai-04-catch-up');
    await panel.getByRole('button', { name: 'Close summary' }).click();
    await panel.waitFor({ state: 'detached' });
    // Writing in the room instead ends the offer (the marker moves as usual).
    await p.evaluate(() => window.__justus.openRoom(null));
    await send(dora, 'one more thing');
    await p.getByTestId('room-item').filter({ hasText: ROOM }).getByTestId('unread').waitFor();
    await openRoom(eli, ROOM);
    await p.getByTestId('catch-up').waitFor();
    await send(eli, 'read it myself');
    await p.getByTestId('catch-up').waitFor({ state: 'detached' });
    await p.getByTestId('room-item').filter({ hasText: ROOM }).getByTestId('unread').waitFor({ state: 'detached' });
  });

  await test('AI: smart replies fill the composer without sending', async () => {
    const p = eli.page;
    await p.getByRole('button', { name: 'Suggest replies' }).click();
    const chips = p.getByTestId('smart-reply');
    await chips.first().waitFor();
    assert((await chips.count()) === 3, 'three suggestions');
    // At 360 px the chips wrap inside the screen and stay usable.
    await p.setViewportSize({ width: 360, height: 740 });
    for (let i = 0; i < 3; i++) {
      const b = await chips.nth(i).boundingBox();
      assert(b && b.x >= 0 && b.x + b.width <= 360 && b.height >= 24, `chip ${i} fits at 360 px: ${JSON.stringify(b)}`);
    }
    await shot(eli, 'ai-05-smart-replies-360');
    await p.setViewportSize({ width: 1100, height: 760 });
    await chips.filter({ hasText: 'On my way' }).click();
    assert((await composer(eli).inputValue()) === 'On my way', 'composer filled');
    assert(await composer(eli).evaluate((el) => el === document.activeElement), 'composer focused');
    assert((await p.getByTestId('message-body').filter({ hasText: 'On my way' }).count()) === 0, 'not sent');
    await composer(eli).fill('');
  });

  await test('AI: when the server says AI is off (GET /api/v1/config), every AI control is hidden', async () => {
    const fay = await newUser('fay');
    const p = fay.page;
    await fay.context.route('**/api/v1/config', (r) => r.fulfill({ json: { ai: { enabled: false, features: [] } } }));
    await p.reload();
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await dora.page.getByRole('button', { name: 'Members' }).click();
    await dora.page.getByLabel('Add a member by username').fill(fay.username);
    await dora.page.getByRole('button', { name: `Add ${fay.username}` }).click();
    await dora.page
      .locator('.members')
      .filter({ hasText: `@${fay.username}` })
      .waitFor();
    await dora.page.getByRole('button', { name: 'Close panel' }).click();
    await send(dora, 'hallo fay');
    await p.getByTestId('room-item').filter({ hasText: ROOM }).getByTestId('unread').waitFor();
    await openRoom(fay, ROOM);
    await waitText(fay, 'hallo fay');
    await sleep(500);
    assert((await p.getByTestId('smart-replies').count()) === 0, 'no smart replies');
    assert((await p.getByTestId('catch-up').count()) === 0, 'no catch-up offer');
    const m = p.getByTestId('message').filter({ hasText: 'hallo fay' });
    await m.hover();
    await m.getByRole('button', { name: 'Reply', exact: true }).waitFor();
    assert((await m.getByRole('button', { name: 'Translate', exact: true }).count()) === 0, 'no Translate');
    await p.getByRole('button', { name: 'Members' }).click();
    await p
      .locator('.members')
      .filter({ hasText: `@${fay.username}` })
      .waitFor();
    assert(
      (await p.getByRole('switch').count()) === 0 && (await p.getByTestId('room-ai-state').count()) === 0,
      'no room AI switch or state',
    );
    await p.getByRole('button', { name: 'Close panel' }).click();
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByLabel('Preferred language for translations').waitFor();
    assert((await p.getByRole('switch').count()) === 0, 'no auto-translate switch');
    await fay.context.close();
  });

  await test('AI: a failing provider shows in place and never blocks sending; AI off hides the controls', async () => {
    const p = eli.page;
    fakeAi.state.mode = 'fail';
    try {
      const bots = await botMessages(eli).count();
      await send(eli, '@ai what is next?');
      // The assistant's answer settles as a one-line explanation.
      await botMessages(eli).nth(bots).getByTestId('message-body').filter({ hasText: '⚠️' }).waitFor({ timeout: 20000 });
      await send(dora, 'noch eine frage');
      await waitText(eli, 'noch eine frage');
      const msg = p.getByTestId('message').filter({ hasText: 'noch eine frage' });
      // Auto-translate tried and failed: the reason is shown under the message.
      await msg.getByTestId('translation-error').waitFor({ timeout: 20000 });
      await p.getByRole('button', { name: 'Suggest replies' }).click();
      await p.getByTestId('smart-replies-error').waitFor({ timeout: 20000 });
      // Sending is unaffected.
      await send(eli, 'still here');
      await p.locator('[data-testid=message][data-state=sent]').filter({ hasText: 'still here' }).waitFor();
      await shot(eli, 'ai-06-failures');
    } finally {
      fakeAi.state.mode = 'ok';
    }
    // Dora switches AI off: Eli's AI controls go away and @ai gets no answer.
    await dora.page.getByRole('button', { name: 'Members' }).click();
    await dora.page.getByRole('switch', { name: 'AI assistant in this room' }).uncheck();
    await dora.page.locator('.members li').filter({ hasText: /@ai\b/ }).waitFor({ state: 'detached' });
    await dora.page.getByRole('button', { name: 'Close panel' }).click();
    await p.getByTestId('smart-replies').waitFor({ state: 'detached' });
    await send(dora, 'ai is off now');
    await waitText(eli, 'ai is off now');
    const m = p.getByTestId('message').filter({ hasText: 'ai is off now' });
    await m.hover();
    assert((await m.getByRole('button', { name: 'Reply', exact: true }).count()) === 1, 'toolbar shown');
    assert((await m.getByRole('button', { name: 'Translate', exact: true }).count()) === 0, 'no Translate with AI off');
    const bots = await botMessages(eli).count();
    await send(eli, '@ai are you there?');
    await waitText(dora, '@ai are you there?');
    await sleep(1500);
    assert((await botMessages(eli).count()) === bots, 'no assistant reply with AI off');
    await Promise.all([dora.context.close(), eli.context.close()]);
  });
}
