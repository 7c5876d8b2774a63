// E2E for moderation (called from run.mjs): group settings (slow mode, who may post) with the
// member's note and countdown, a refused send (429 slow_mode) giving the text back; mute from the
// member menu with the muted member's banner and disabled composer, lifted live; kick/ban/remove
// with reasons, the ban list and "Removed by an admin"; reports and their queues; the audit log.

export async function moderationTests(h) {
  const { test, assert, newUser, openRoom, send, waitText, shot, rest, PASSWORD } = h;
  const login = async (u) =>
    (await rest('POST', '/auth/login', null, { login: u.username, password: PASSWORD })).access_token;
  const idOf = async (tok, u) =>
    (await rest('GET', `/users?search=${u.username}&limit=5`, tok)).users.find((x) => x.username === u.username).id;
  /** A group made over REST by `owner` with `members` in it; everyone's browser shows it. */
  const group = async (owner, name, members) => {
    const tok = await login(owner);
    const room = await rest('POST', '/rooms', tok, { name });
    const ids = {};
    for (const m of members) {
      ids[m.name] = await idOf(tok, m);
      await rest('POST', `/rooms/${room.id}/members`, tok, { user_id: ids[m.name] });
    }
    for (const u of [owner, ...members])
      await u.page.getByTestId('room-item').filter({ hasText: name }).first().waitFor({ timeout: 15000 });
    return { room, tok, ids };
  };
  const box = (u) => u.page.getByLabel('Message', { exact: true });
  const panelOf = (u) => u.page.getByRole('complementary', { name: 'Members' });
  const openMembers = async (u) => {
    await u.page.getByRole('button', { name: 'Members', exact: true }).click();
    await panelOf(u).waitFor();
    return panelOf(u);
  };
  const memberMenu = async (u, who, item) => {
    const panel = panelOf(u);
    await panel.getByRole('button', { name: `Actions for ${who}` }).click();
    await panel
      .getByRole('menu', { name: `Actions for ${who}` })
      .getByRole('menuitem', { name: item })
      .click();
  };

  await test('moderation: group settings — slow mode and who may post; the member sees the pace, a countdown after sending, and a refused send keeps the text', async () => {
    const [olga, milo] = await Promise.all([newUser('olga'), newUser('milo')]);
    await group(olga, 'Quiet', [milo]);
    await openRoom(olga, 'Quiet');
    const panel = await openMembers(olga);
    const slow = panel.getByLabel('Slow mode');
    const options = await slow.locator('option').allInnerTexts();
    assert(
      JSON.stringify(options) ===
        JSON.stringify(['Off', '5 s', '10 s', '30 s', '1 min', '5 min', '15 min', '1 h', 'Custom…']),
      `slow mode choices: ${options}`,
    );
    // Custom: 2 minutes.
    await slow.selectOption('custom');
    await panel.getByLabel('One message every').fill('2');
    await panel.getByRole('form', { name: 'Custom slow mode' }).getByLabel('Unit').selectOption('minutes');
    await panel.getByRole('button', { name: 'Set', exact: true }).click();
    await panel.getByTestId('group-settings-status').filter({ hasText: 'Slow mode saved.' }).waitFor();
    await olga.page
      .getByTestId('slow-mode-note')
      .filter({ hasText: 'one message every 2 min (admins are exempt)' })
      .waitFor();
    // Then 10 s from the list.
    await slow.selectOption('10');
    await olga.page.getByTestId('slow-mode-note').filter({ hasText: 'one message every 10 s' }).waitFor();
    await olga.page.getByTestId('system-line').filter({ hasText: 'You changed slow mode to 10 s' }).waitFor();
    // The member: the pace near the composer, then a countdown after a send (no 429 needed).
    await openRoom(milo, 'Quiet');
    await milo.page.getByTestId('slow-mode-note').filter({ hasText: 'Slow mode: one message every 10 s' }).waitFor();
    assert(!(await milo.page.getByTestId('slow-mode-note').innerText()).includes('exempt'), 'members are not exempt');
    await send(milo, 'first at a slow pace');
    await waitText(milo, 'first at a slow pace');
    await milo.page.getByTestId('slow-mode-wait').filter({ hasText: 'You can send again in' }).waitFor();
    await send(milo, 'too soon');
    await milo.page.waitForTimeout(500);
    assert((await box(milo).inputValue()) === 'too soon', 'the text stays while waiting');
    assert(
      (await milo.page.getByTestId('message-body').filter({ hasText: 'too soon' }).count()) === 0,
      'nothing sent during the countdown',
    );
    await shot(milo, 'moderation-slow-mode-countdown');
    // After a reload the client has no countdown: the server refuses (429 slow_mode), the text comes back with the wait.
    await box(milo).fill('');
    await milo.page.reload();
    await milo.page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await openRoom(milo, 'Quiet');
    await send(milo, 'refused by the server');
    await milo.page
      .getByTestId('slow-mode-wait')
      .filter({ hasText: 'You can send again in' })
      .waitFor({ timeout: 8000 });
    await milo.page.waitForFunction(
      () => document.querySelector('#composer-input')?.value.includes('refused by the server'),
      null,
      { timeout: 8000 },
    );
    assert(
      (await milo.page.getByTestId('message-body').filter({ hasText: 'refused by the server' }).count()) === 0,
      'the refused message is not shown as sent',
    );
    // Once the wait is over it goes.
    await milo.page.getByTestId('slow-mode-wait').waitFor({ state: 'detached', timeout: 15000 });
    await box(milo).press('Enter');
    await waitText(olga, 'refused by the server');
    // Who may post: admins only, then everyone again.
    await panel.getByLabel('Who may post').selectOption('admins');
    await milo.page.getByText('Only admins can post here.').waitFor();
    await panel.getByLabel('Who may post').selectOption('everyone');
    await box(milo).waitFor();
    await slow.selectOption('0');
    await milo.page.getByTestId('slow-mode-note').waitFor({ state: 'detached' });
    await Promise.all([olga, milo].map((u) => u.context.close()));
  });

  await test('moderation: mute from the member menu with a reason — badge, the muted member’s banner and disabled composer, system lines, lifted live', async () => {
    const [paz, quin] = await Promise.all([newUser('paz'), newUser('quin')]);
    await group(paz, 'Hushed', [quin]);
    await Promise.all([openRoom(paz, 'Hushed'), openRoom(quin, 'Hushed')]);
    const panel = await openMembers(paz);
    await panel.getByRole('button', { name: 'Actions for Quin' }).click();
    const items = await panel.getByRole('menu', { name: 'Actions for Quin' }).getByRole('menuitem').allInnerTexts();
    assert(
      JSON.stringify(items) ===
        JSON.stringify(['Make admin', 'Make owner…', 'Mute…', 'Remove from group…', 'Ban…', 'Report…']),
      `menu: ${items}`,
    );
    await paz.page.keyboard.press('Escape');
    await memberMenu(paz, 'Quin', 'Mute…');
    const dialog = paz.page.getByRole('dialog', { name: 'Mute Quin?' });
    const durations = await dialog.getByLabel('For').locator('option').allInnerTexts();
    assert(
      JSON.stringify(durations) === JSON.stringify(['10 min', '1 h', '8 h', '24 h', '1 week', 'Custom…']),
      `durations: ${durations}`,
    );
    await dialog.getByLabel('For').selectOption('60');
    await dialog.getByLabel('Reason (optional)').fill('flooding');
    await dialog.getByRole('button', { name: 'Mute', exact: true }).click();
    await panel.getByTestId('muted-badge').filter({ hasText: 'Muted until' }).waitFor();
    // Quin: a banner, no composer to type in, a line in the timeline.
    await quin.page.getByTestId('muted-banner').filter({ hasText: 'You are muted in this room until' }).waitFor();
    assert(await box(quin).isDisabled(), 'the composer is disabled');
    await quin.page.getByTestId('system-line').filter({ hasText: 'You were muted by Paz until' }).waitFor();
    await paz.page.getByTestId('system-line').filter({ hasText: 'Quin was muted by you until' }).waitFor();
    await shot(quin, 'moderation-muted');
    // The server refuses a reaction or send anyway (REST): 403 muted.
    const qt = await login(quin);
    const rooms = await rest('GET', '/rooms', qt);
    const roomId = rooms.rooms.find((r) => r.name === 'Hushed').id;
    let refused = '';
    try {
      await rest('POST', `/rooms/${roomId}/messages`, qt, { client_id: 'mut-1', body: 'sneaky' });
    } catch (e) {
      refused = String(e.message);
    }
    assert(refused.includes('403') && refused.includes('muted'), `a muted send is refused: ${refused}`);
    // Unmute: lifted live.
    await memberMenu(paz, 'Quin', 'Unmute');
    await quin.page.getByTestId('muted-banner').waitFor({ state: 'detached', timeout: 15000 });
    assert(!(await box(quin).isDisabled()), 'the composer is back');
    await quin.page.getByTestId('system-line').filter({ hasText: 'You were unmuted by Paz' }).waitFor();
    await send(quin, 'back again');
    await waitText(paz, 'back again');
    await Promise.all([paz, quin].map((u) => u.context.close()));
  });

  // Hover a message and click one of its actions (rows can be redrawn between the two: retry).
  const messageAction = async (u, text, name) => {
    const m = u.page.getByTestId('message').filter({ hasText: text });
    for (let i = 0; ; i++) {
      await m.hover();
      try {
        await m.getByRole('button', { name, exact: true }).click({ timeout: 2000 });
        return;
      } catch (e) {
        if (i >= 4) throw e;
      }
    }
  };

  await test('moderation: an admin removes a message with a reason (“Removed by an admin”, live and after a reload), bans with a reason, and unbans from the ban list', async () => {
    const [ravi, sven, tove] = await Promise.all([newUser('ravi'), newUser('sven'), newUser('tove')]);
    await group(ravi, 'Strict', [sven, tove]);
    await Promise.all([ravi, sven, tove].map((u) => openRoom(u, 'Strict')));
    await send(sven, 'an off topic rant');
    await send(sven, 'a fine message');
    await waitText(ravi, 'a fine message');
    // Members get no Remove on others' messages.
    await tove.page.getByTestId('message').filter({ hasText: 'an off topic rant' }).hover();
    assert(
      (await tove.page.getByRole('button', { name: 'Remove message' }).count()) === 0,
      'a member cannot remove others’ messages',
    );
    await messageAction(ravi, 'an off topic rant', 'Remove message');
    const dialog = ravi.page.getByRole('dialog', { name: 'Remove this message?' });
    await dialog.getByLabel('Reason (optional)').fill('off topic');
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    for (const u of [ravi, sven, tove])
      await u.page.getByTestId('deleted-note').filter({ hasText: 'Removed by an admin' }).waitFor({ timeout: 15000 });
    // Sven deletes his own: "Message deleted".
    await messageAction(sven, 'a fine message', 'Delete');
    await sven.page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await tove.page.getByTestId('deleted-note').filter({ hasText: 'Message deleted' }).waitFor({ timeout: 15000 });
    // Loaded history: the delete events come with it (/events), so the difference stays. The
    // offline cache is dropped first (it would keep what was seen live).
    await tove.page.evaluate(async () => {
      const dbs = await indexedDB.databases();
      await Promise.all(
        dbs.map(
          (d) =>
            new Promise((r) => {
              const q = indexedDB.deleteDatabase(d.name);
              q.onsuccess = q.onerror = q.onblocked = r;
            }),
        ),
      );
    });
    await tove.page.reload();
    await tove.page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await openRoom(tove, 'Strict');
    await tove.page.getByTestId('deleted-note').filter({ hasText: 'Removed by an admin' }).waitFor({ timeout: 15000 });
    await tove.page.getByTestId('deleted-note').filter({ hasText: 'Message deleted' }).waitFor();
    await shot(tove, 'moderation-removed-by-admin');
    // Ban Tove with a reason; she is on the ban list; unban her.
    const panel = await openMembers(ravi);
    await memberMenu(ravi, 'Tove', 'Ban…');
    const ban = ravi.page.getByRole('dialog', { name: 'Ban Tove?' });
    await ban.getByLabel('Reason (optional)').fill('trolling');
    await ban.getByRole('button', { name: 'Ban', exact: true }).click();
    await tove.page
      .getByTestId('room-item')
      .filter({ hasText: 'Strict' })
      .waitFor({ state: 'detached', timeout: 15000 });
    await panel.getByRole('tab', { name: 'Banned' }).click();
    await panel.getByTestId('banned').filter({ hasText: 'Tove' }).waitFor();
    await panel.getByRole('button', { name: 'Unban Tove' }).click();
    await ravi.page
      .getByRole('dialog', { name: 'Unban Tove?' })
      .getByRole('button', { name: 'Unban', exact: true })
      .click();
    await panel.getByTestId('ban-list').filter({ hasText: 'No one is banned.' }).waitFor();
    await ravi.page.getByTestId('toast').filter({ hasText: 'Tove is no longer banned.' }).waitFor();
    await Promise.all([ravi, sven, tove].map((u) => u.context.close()));
  });

  await test('moderation: reports — a message and a person reported (reason required, “already reported”), the room admins’ queue resolves them with notes, the reporter sees the outcome, the instance admin sees every room’s', async () => {
    const ursa = await newUser('ursa');
    const vesna = await newUser('vesna');
    const xavi = await newUser('xavi');
    const moira = await newUser(h.INSTANCE_ADMIN);
    await group(ursa, 'Reported', [vesna, xavi]);
    await Promise.all([ursa, vesna, xavi].map((u) => openRoom(u, 'Reported')));
    await send(vesna, 'buy cheap pills now');
    await waitText(xavi, 'buy cheap pills now');
    // Reporting a message: the reason is required.
    await messageAction(xavi, 'buy cheap pills now', 'Report');
    const dialog = xavi.page.getByRole('dialog', { name: 'Report this message?' });
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Please say what is wrong.' }).waitFor();
    await dialog.getByLabel('What is wrong?').fill('spam');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await xavi.page.getByTestId('toast').filter({ hasText: 'Report sent.' }).waitFor();
    await messageAction(xavi, 'buy cheap pills now', 'Report');
    await dialog.getByLabel('What is wrong?').fill('spam again');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await xavi.page.getByTestId('toast').filter({ hasText: 'already reported' }).waitFor();
    // Reporting a person from the member menu.
    await openMembers(xavi);
    await memberMenu(xavi, 'Vesna', 'Report…');
    const person = xavi.page.getByRole('dialog', { name: 'Report Vesna?' });
    await person.getByLabel('What is wrong?').fill('keeps spamming');
    await person.getByRole('button', { name: 'Send report' }).click();
    await xavi.page.getByTestId('toast').filter({ hasText: 'Report sent.' }).waitFor();
    // The owner's queue.
    const panel = await openMembers(ursa);
    const reports = panel.getByTestId('report');
    await reports.first().waitFor({ timeout: 15000 });
    assert((await reports.count()) === 2, `two open reports: ${await reports.count()}`);
    const msgReport = reports.filter({ hasText: 'A message by Vesna: “buy cheap pills now”' });
    await msgReport.filter({ hasText: 'Reported by Xavi' }).waitFor();
    await msgReport.getByRole('button', { name: 'Go to message' }).click();
    await ursa.page.locator('.msg.highlight').filter({ hasText: 'buy cheap pills now' }).waitFor();
    await shot(ursa, 'moderation-report-queue');
    await msgReport.getByRole('button', { name: 'Action taken…' }).click();
    const resolve = ursa.page.getByRole('dialog', { name: 'Resolve: action taken' });
    await resolve.getByLabel('Note to the reporter (optional)').fill('removed it, thanks');
    await resolve.getByRole('button', { name: 'Resolve' }).click();
    await reports.filter({ hasText: 'Vesna (the person)' }).getByRole('button', { name: 'Dismiss…' }).click();
    await ursa.page
      .getByRole('dialog', { name: 'Dismiss this report?' })
      .getByRole('button', { name: 'Dismiss' })
      .click();
    await panel.getByTestId('report-list').filter({ hasText: 'No open reports.' }).waitFor();
    await panel.getByRole('button', { name: 'Resolved', exact: true }).click();
    await reports
      .filter({ hasText: 'buy cheap pills now' })
      .getByTestId('report-outcome')
      .filter({ hasText: 'Action taken by Ursa — removed it, thanks' })
      .waitFor();
    await reports.filter({ hasText: 'Vesna (the person)' }).filter({ hasText: 'Dismissed by Ursa' }).waitFor();
    // The reporter: My reports in Settings, with the outcomes; no instance queue for them.
    await xavi.page.getByRole('button', { name: 'Settings' }).click();
    const mine = xavi.page.getByTestId('my-report');
    await mine.filter({ hasText: 'Action taken — removed it, thanks' }).waitFor({ timeout: 15000 });
    await mine.filter({ hasText: 'Vesna (the person)' }).filter({ hasText: 'Dismissed' }).waitFor();
    assert((await xavi.page.getByRole('heading', { name: 'Instance reports' }).count()) === 0, 'not an instance admin');
    await shot(xavi, 'moderation-my-reports');
    // The instance admin (ADMIN_USERS) sees every room's reports in Settings.
    await moira.page.getByRole('button', { name: 'Settings' }).click();
    await moira.page.getByRole('heading', { name: 'Instance reports' }).waitFor({ timeout: 15000 });
    await moira.page.getByRole('button', { name: 'Resolved', exact: true }).click();
    // Moira is not in the room: the queue names it all the same (its `rooms`).
    await moira.page
      .getByTestId('report')
      .filter({ hasText: 'buy cheap pills now' })
      .filter({ hasText: 'In “Reported”' })
      .waitFor({ timeout: 15000 });
    // And the whole instance's audit log. (The server's report_resolved entry carries no reason:
    // core's audit::report_resolved does not copy the note, though its comment says it does.)
    await moira.page
      .getByTestId('audit-entry')
      .filter({ hasText: 'Ursa resolved a report about Vesna: action taken' })
      .waitFor({ timeout: 15000 });
    await shot(moira, 'moderation-instance-admin');
    await Promise.all([ursa, vesna, xavi, moira].map((u) => u.context.close()));
  });

  await test('moderation: the audit log — readable entries newest first, “Load older” pages, “Export JSON” downloads every entry', async () => {
    const [yuki, zack] = await Promise.all([newUser('yuki'), newUser('zack')]);
    const { room, tok } = await group(yuki, 'Logged', [zack]);
    // 30 settings changes over REST (two pages and a bit), then two actions in the browser.
    for (let i = 0; i < 30; i++) await rest('PATCH', `/rooms/${room.id}`, tok, { slow_mode_seconds: i % 2 ? 5 : 10 });
    await openRoom(yuki, 'Logged');
    const panel = await openMembers(yuki);
    await memberMenu(yuki, 'Zack', 'Mute…');
    const dialog = yuki.page.getByRole('dialog', { name: 'Mute Zack?' });
    await dialog.getByLabel('For').selectOption('60');
    await dialog.getByLabel('Reason (optional)').fill('flooding');
    await dialog.getByRole('button', { name: 'Mute', exact: true }).click();
    await panel.getByTestId('muted-badge').waitFor();
    await panel.getByLabel('Slow mode').selectOption('30');
    await panel.getByTestId('group-settings-status').filter({ hasText: 'Slow mode saved.' }).waitFor();
    await panel.getByRole('tab', { name: 'Audit log' }).click();
    const entries = panel.getByTestId('audit-entry');
    await entries.first().waitFor();
    const first = await entries.allInnerTexts();
    assert(first.length === 25, `a page of 25: ${first.length}`);
    assert(first[0].startsWith('Yuki changed slow mode to 30 s'), `newest first: ${first[0]}`);
    assert(first[1].startsWith('Yuki muted Zack for 1 h — flooding'), `the mute: ${first[1]}`);
    assert(first[2].startsWith('Yuki changed slow mode to 5 s'), `the REST changes: ${first[2]}`);
    await shot(yuki, 'moderation-audit-log');
    await panel.getByRole('button', { name: 'Load older' }).click();
    await entries.nth(25).waitFor();
    await panel.getByRole('button', { name: 'Load older' }).waitFor({ state: 'detached' });
    assert((await entries.count()) === 32, `all 32 entries: ${await entries.count()}`);
    // Export: every entry, as the server gave them.
    const [download] = await Promise.all([
      yuki.page.waitForEvent('download'),
      panel.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    const { readFile } = await import('node:fs/promises');
    const json = JSON.parse(await readFile(await download.path(), 'utf8'));
    assert(json.room_id === room.id && json.entries.length === 32, `export: ${json.entries?.length}`);
    assert(json.entries[1].action === 'member_muted' && json.entries[1].reason === 'flooding', 'raw entries');
    await panel.getByTestId('audit-status').filter({ hasText: 'Exported 32 entries.' }).waitFor();
    await Promise.all([yuki, zack].map((u) => u.context.close()));
  });
}
