// E2E for the richer Markdown (called from run.mjs): lists, numbered lists, block quotes,
// strikethrough, inline and fenced code with a working copy button, spoilers that reveal on
// click; everything is built as elements, nothing a message says becomes markup.

export async function markdownTests(h) {
  const { test, assert, newUser, openDm, openRoom, waitText, shot } = h;

  await test('markdown: lists, quotes, strikethrough, code with a copy button and spoilers render as elements', async () => {
    const [wes, xia] = await Promise.all([newUser('wes'), newUser('xia')]);
    await xia.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.BASE_URL });
    await openDm(wes, xia);
    const text = [
      'shopping:',
      '- milk',
      '- **bread**',
      '',
      '3. third',
      '4. fourth',
      '',
      '> quoted <b>bold?</b>',
      '',
      'price ~~10~~ 8 and `inline` and ||the butler did it||',
      '```js',
      'const x = "<img src=x onerror=alert(1)>";',
      '```',
    ].join('\n');
    const box = wes.page.getByLabel('Message', { exact: true });
    await box.fill(text);
    await box.press('Enter');
    await openRoom(xia, 'Wes');
    await waitText(xia, 'shopping');
    const body = xia.page.getByTestId('message-body').filter({ hasText: 'shopping' });
    assert((await body.locator('ul > li').count()) === 2, 'a bullet list');
    assert((await body.locator('ul > li strong').innerText()) === 'bread', 'bold in an item');
    assert((await body.locator('ol').getAttribute('start')) === '3', 'a numbered list keeps its start');
    assert((await body.locator('blockquote').innerText()).includes('quoted <b>bold?</b>'), 'a quote, HTML as text');
    assert((await body.locator('s').innerText()) === '10', 'strikethrough');
    assert((await body.locator('p code').innerText()) === 'inline', 'inline code');
    assert((await body.locator('b, img, script').count()) === 0, 'no markup from the message');
    // The spoiler hides its text until clicked.
    const spoiler = body.getByTestId('spoiler');
    assert(!(await body.getByText('the butler did it').isVisible()), 'spoiler hidden');
    await spoiler.click();
    await body.getByText('the butler did it').waitFor({ state: 'visible' });
    // The code block copies its text.
    const code = 'const x = "<img src=x onerror=alert(1)>";';
    assert((await body.locator('pre code').innerText()) === code, 'fenced code as text');
    await body.getByRole('button', { name: 'Copy code' }).click();
    await body.getByRole('button', { name: 'Copy code' }).filter({ hasText: 'Copied' }).waitFor();
    assert((await xia.page.evaluate(() => navigator.clipboard.readText())) === code, 'copied to the clipboard');
    // The room list preview is plain and keeps the spoiler.
    const preview = await xia.page.getByTestId('room-item').filter({ hasText: 'Wes' }).locator('.preview').innerText();
    assert(!preview.includes('butler') && !preview.includes('**'), `plain preview: ${preview}`);
    await shot(xia, 'markdown');
  });
}
