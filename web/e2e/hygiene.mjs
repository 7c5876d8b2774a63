// E2E for response hygiene (called from run.mjs): in a real browser, every response the app
// gets from fetch is read or has its body cancelled, through a visit without a session (the
// refresh answers 401), a sign-in, an expired token, the settings and a sign-out.

/** Installed before the app loads: records each fetch response and whether its body was settled. */
function trackResponses() {
  const orig = window.fetch.bind(window);
  window.__responses = [];
  window.fetch = async (...args) => {
    const res = await orig(...args);
    const rec = { url: res.url, status: res.status, res, cancelled: false };
    const body = res.body;
    if (body) {
      const cancel = body.cancel.bind(body);
      body.cancel = (...a) => {
        rec.cancelled = true;
        return cancel(...a);
      };
    }
    window.__responses.push(rec);
    return res;
  };
}

export async function hygieneTests(h) {
  const { test, assert, newUser, BASE_URL, PASSWORD } = h;

  await test('hygiene: every fetch response is read or cancelled (401 refresh, sign-in, expired token, sign-out)', async () => {
    const yan = await newUser('yan');
    await yan.context.close();
    const context = await h.browser.newContext();
    await context.addInitScript(trackResponses);
    const p = await context.newPage();
    const unsettled = () =>
      p.evaluate(() =>
        window.__responses
          .filter((r) => r.res.body && !r.res.bodyUsed && !r.cancelled)
          .map((r) => `${r.status} ${new URL(r.url).pathname}`),
      );
    // Settled means: once the app is done with it (give the microtasks after the await a turn).
    const check = async (when) => {
      await p.waitForFunction(() => window.__responses.length > 0);
      let left = await unsettled();
      for (let i = 0; left.length && i < 20; i++) {
        await p.waitForTimeout(50);
        left = await unsettled();
      }
      assert(left.length === 0, `${when}: unread bodies: ${left.join(', ')}`);
    };
    await p.goto(`${BASE_URL}/`);
    await p.getByRole('tab', { name: 'Log in' }).waitFor();
    const refresh = await p.evaluate(() => window.__responses.find((r) => r.url.endsWith('/auth/refresh'))?.status);
    assert(refresh === 401, `the visit without a session got a 401 refresh: ${refresh}`);
    await check('no session');
    await p.getByLabel('Username or email').fill(yan.username);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.locator('form').getByRole('button', { name: 'Log in' }).click();
    await p.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
    await p.evaluate(() => window.__justus.expireAccessToken());
    await p.getByRole('button', { name: 'Settings' }).click();
    await p.getByTestId('session-device').first().waitFor();
    await check('signed in');
    await p.getByRole('button', { name: 'Log out', exact: true }).click();
    await p.getByRole('tab', { name: 'Log in' }).waitFor();
    await check('signed out');
    const n = await p.evaluate(() => window.__responses.length);
    console.log(`  # ${n} responses, all read or cancelled`);
    await context.close();
  });
}
