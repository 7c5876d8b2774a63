// E2E for presence from activity (called from run.mjs): a person whose tab is hidden shows as
// away to the people they talk to, and as online again when they come back.

export async function presenceTests(h) {
  const { test, newUser, openDm, openRoom, send, waitText } = h;

  await test('presence: a hidden tab shows as away to the other person, and online again when shown', async () => {
    const [hollis, imke] = await Promise.all([newUser('hollis'), newUser('imke')]);
    await openDm(hollis, imke);
    await send(hollis, 'are you there?');
    await openRoom(imke, 'Hollis');
    await waitText(imke, 'are you there?');
    // The DM's header says how the other person is (Online / Away / Offline).
    const head = imke.page.locator('.room-head');
    const says = async (text) => {
      try {
        await head.getByText(text).first().waitFor({ timeout: 15000 });
      } catch (e) {
        throw new Error(`the header says "${await head.innerText()}", not "${text}": ${e.message}`);
      }
    };
    const setHidden = (hidden) =>
      hollis.page.evaluate((hide) => {
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (hide ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    await says('Away');
    await setHidden(false);
    await says('Online');
  });
}
