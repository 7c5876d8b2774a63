// E2E for membership lines (called from run.mjs): "Nia added Kai", "Kai is now an admin",
// "Lea was removed", "Mo was banned", "Kai left", a rename — live for those watching (gateway)
// and from /events for someone opening the room later; compact, between the messages.

export async function membershipTests(h) {
  const { test, assert, newUser, openRoom, send, waitText, shot, rest, PASSWORD } = h;

  await test('membership: system lines in the timeline (added, admin, removed, banned, left, renamed), live and loaded with history', async () => {
    const [kai, lea, mo] = await Promise.all([newUser('kai'), newUser('lea'), newUser('mo')]);
    // Nia, the owner, acts over REST; the three watch in the browser.
    const nia = await rest('POST', '/auth/register', null, {
      username: `nia${kai.username.slice(3)}`,
      password: PASSWORD,
      display_name: 'Nia',
    });
    const tok = nia.access_token;
    const idOf = async (u) =>
      (await rest('GET', `/users?search=${u.username}&limit=5`, tok)).users.find((x) => x.username === u.username).id;
    const [kaiId, leaId, moId] = await Promise.all([kai, lea, mo].map(idOf));
    const room = await rest('POST', '/rooms', tok, { name: 'Lines' });
    await rest('POST', `/rooms/${room.id}/members`, tok, { user_id: kaiId });
    await rest('POST', `/rooms/${room.id}/messages`, tok, { client_id: 'm-1', body: 'welcome kai' });
    await openRoom(kai, 'Lines');
    await waitText(kai, 'welcome kai');
    const lines = (u) => u.page.getByTestId('system-line');
    const line = (u, text) => lines(u).filter({ hasText: text }).first().waitFor({ timeout: 15000 });
    // History: the lines before the first message came with it (from /events).
    await line(kai, 'Nia created the group');
    await line(kai, 'Nia added you');
    // Live, in order, between messages.
    await rest('POST', `/rooms/${room.id}/members`, tok, { user_id: leaId });
    await rest('POST', `/rooms/${room.id}/members`, tok, { user_id: moId });
    await line(kai, 'Nia added Lea');
    await line(kai, 'Nia added Mo');
    await rest('PATCH', `/rooms/${room.id}/members/${kaiId}`, tok, { role: 'admin' });
    await line(kai, 'You are now an admin');
    await rest('DELETE', `/rooms/${room.id}/members/${leaId}`, tok);
    await line(kai, 'Lea was removed by Nia');
    await rest('POST', `/rooms/${room.id}/bans`, tok, { user_id: moId });
    await line(kai, 'Mo was banned by Nia');
    await rest('PATCH', `/rooms/${room.id}`, tok, { name: 'Lines and more' });
    await line(kai, 'Nia renamed the group to “Lines and more”');
    await kai.page.getByRole('heading', { level: 2 }).filter({ hasText: 'Lines and more' }).waitFor();
    await send(kai, 'after the changes');
    await waitText(kai, 'after the changes');
    // The order on screen is the order of events; the lines are compact (one line each).
    const texts = await lines(kai).allInnerTexts();
    const order = [
      'Nia created the group',
      'Nia added you',
      'Nia added Lea',
      'Nia added Mo',
      'You are now an admin',
      'Lea was removed by Nia',
      'Mo was banned by Nia',
      'Nia renamed the group',
    ];
    const at = order.map((t) => texts.findIndex((x) => x.includes(t)));
    assert(
      at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1])),
      `in order: ${texts.join(' | ')}`,
    );
    const hLine = await lines(kai)
      .first()
      .evaluate((el) => el.getBoundingClientRect().height);
    assert(hLine < 32, `compact: ${hLine}px`);
    const seqs = await kai.page.evaluate(() =>
      [...document.querySelectorAll('.vlist [data-seq]')]
        .map((el) => ({ seq: Number(el.dataset.seq), top: el.getBoundingClientRect().top }))
        .sort((a, b) => a.top - b.top)
        .map((x) => x.seq),
    );
    assert(
      seqs.every((s, i) => i === 0 || s > seqs[i - 1]),
      `lines sit between messages by seq: ${seqs}`,
    );
    await shot(kai, 'membership-lines');
    // Kai leaves from the members panel; Nia's log has it (REST), and a new member sees every line.
    await kai.page.getByRole('button', { name: 'Members' }).click();
    await kai.page.getByRole('button', { name: 'Leave group' }).click();
    await kai.page.getByRole('alertdialog').getByRole('button', { name: 'Leave group' }).click();
    await kai.page.getByTestId('room-item').filter({ hasText: 'Lines and more' }).waitFor({ state: 'detached' });
    const evs = await rest('GET', `/rooms/${room.id}/events?after=0&limit=1000`, tok);
    assert(
      evs.events.some((e) => e.type === 'member.left' && e.user_id === kaiId),
      'the server has the leave',
    );
    const [oz] = await Promise.all([newUser('oz')]);
    const ozId = await idOf(oz);
    await rest('POST', `/rooms/${room.id}/members`, tok, { user_id: ozId });
    await openRoom(oz, 'Lines and more');
    await waitText(oz, 'after the changes');
    await line(oz, 'Kai left');
    await line(oz, 'Nia added you');
    // Lines are rows of the windowed list, like messages (not outside it).
    assert(
      (await oz.page.locator('.vlist .vrow [data-testid=system-line]').count()) === (await lines(oz).count()),
      'every line is a list row',
    );
    await Promise.all([kai, lea, mo, oz].map((u) => u.context.close()));
  });
}
