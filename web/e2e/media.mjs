// E2E for media (called from run.mjs): uploads by file picker and paste with visible progress,
// thumbnails on both screens, the lightbox (Escape, focus return), a PDF file card that downloads
// as an attachment, cancelling an upload mid-way, the server's error for an unsupported file,
// and the offline explanation on the attach button.
import { deflateSync, crc32 } from 'node:zlib';
import { chromium } from 'playwright-core';

/** A PNG of w×h RGB pixels: a gradient, or noise (incompressible, for slow uploads). */
export function makePng(w, h, noise = false) {
  const row = w * 3 + 1;
  const raw = Buffer.alloc(row * h);
  let s = 12345;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * row + 1 + x * 3;
      if (noise) {
        s = (s * 1103515245 + 12345) >>> 0;
        raw[o] = s >>> 24;
        raw[o + 1] = (s >>> 16) & 255;
        raw[o + 2] = (s >>> 8) & 255;
      } else {
        raw[o] = (x * 255) / w;
        raw[o + 1] = (y * 255) / h;
        raw[o + 2] = 160;
      }
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: noise ? 0 : 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small valid one-page PDF. */
function makePdf() {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
  ];
  let out = '%PDF-1.4\n';
  const offs = [];
  objs.forEach((o, i) => {
    offs.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out +=
    `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` +
    offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Slow this page's uploads down (bytes per second), or undo it with 0. */
async function throttleUploads(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond || -1,
  });
  return cdp;
}

export async function mediaTests(h) {
  const { test, assert, newUser, openDm, openRoom, send, waitText, shot, BASE_URL, PASSWORD } = h;
  let ann, ben;
  const fileInput = (u) => u.page.getByTestId('file-input');
  const chips = (u) => u.page.getByTestId('upload-chip');
  const sendBtn = (u) => u.page.getByRole('button', { name: 'Send', exact: true });
  const imgLoaded = async (u, n) => {
    await u.page.waitForFunction(
      (n) => {
        const imgs = [...document.querySelectorAll('[data-testid=attachment-image] img')];
        return imgs.length >= n && imgs.slice(0, n).every((i) => i.complete && i.naturalWidth > 0);
      },
      n,
      { timeout: 20000 },
    );
  };

  await test('media: an image by the file picker and by paste shows progress, then the thumbnail on both screens; the lightbox closes with Escape and focus returns', async () => {
    [ann, ben] = await Promise.all([newUser('ann'), newUser('ben')]);
    await openDm(ann, ben);
    await send(ann, 'photos coming');
    await openRoom(ben, 'Ann');
    await waitText(ben, 'photos coming');

    // ~1.2 MB of noise at 400 KB/s: the progress bar is on screen for a few seconds.
    const cdp = await throttleUploads(ann.page, 400 * 1024);
    await fileInput(ann).setInputFiles({ name: 'noise.png', mimeType: 'image/png', buffer: makePng(640, 640, true) });
    // The bar moves: a value strictly between 0 and 100 is on screen at some point.
    const v = await (
      await ann.page.waitForFunction(
        () => {
          const p = document.querySelector('progress[data-testid=upload-progress]');
          const v = p ? Number(p.getAttribute('value')) : 0;
          return v > 0 && v < 100 ? v : null;
        },
        null,
        { timeout: 10000, polling: 50 },
      )
    ).jsonValue();
    await shot(ann, 'media-01-progress');
    console.log(`  # progress seen at ${v}%`);
    // Only an attachment, no text; Send pressed mid-upload goes out once the upload is in.
    await sendBtn(ann).click();
    await ann.page
      .getByRole('status')
      .filter({ hasText: 'Sending when the uploads finish' })
      .waitFor({ timeout: 3000 });
    await chips(ann).first().waitFor({ state: 'detached', timeout: 30000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await imgLoaded(ann, 1);
    await imgLoaded(ben, 1);

    // Paste: an image on the clipboard goes to the queue; the caption goes with it.
    const b64 = makePng(400, 300).toString('base64');
    await ann.page.getByLabel('Message', { exact: true }).focus();
    await ann.page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
      document
        .getElementById('composer-input')
        .dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, b64);
    await ann.page.locator('[data-testid=upload-chip][data-state=done]').waitFor({ timeout: 20000 });
    await send(ann, 'a pasted gradient');
    await waitText(ben, 'a pasted gradient');
    await imgLoaded(ben, 2);
    await shot(ben, 'media-02-thumbnails');
    const msg = ben.page.getByTestId('message').filter({ hasText: 'a pasted gradient' });
    const thumb = msg.getByTestId('attachment-image');
    const box = await thumb.boundingBox();
    assert(
      box && Math.abs(box.width / box.height - 4 / 3) < 0.05,
      `thumbnail keeps the aspect ratio: ${JSON.stringify(box)}`,
    );

    await thumb.focus();
    await thumb.press('Enter');
    const dialog = ben.page.getByRole('dialog', { name: 'Image viewer' });
    await dialog.waitFor();
    await ben.page.waitForFunction(
      () => {
        const i = document.querySelector('[data-testid=lightbox] img');
        return i?.complete && i.naturalWidth > 0;
      },
      null,
      { timeout: 15000 },
    );
    await shot(ben, 'media-03-lightbox');
    // Focus stays inside while tabbing.
    for (let i = 0; i < 4; i++) await ben.page.keyboard.press('Tab');
    assert(
      await ben.page.evaluate(() => !!document.activeElement?.closest('.lightbox')),
      'focus trapped in the lightbox',
    );
    await ben.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await ben.page.waitForFunction(
      () => document.activeElement?.getAttribute('data-testid') === 'attachment-image',
      null,
      { timeout: 3000 },
    );
  });

  await test('media: a PDF shows as a file card whose link downloads with Content-Disposition attachment', async () => {
    await fileInput(ann).setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: makePdf() });
    await ann.page.locator('[data-testid=upload-chip][data-state=done]').waitFor({ timeout: 20000 });
    await send(ann, 'the report');
    await waitText(ben, 'the report');
    const link = ben.page.getByTestId('message').filter({ hasText: 'the report' }).getByTestId('attachment-download');
    await ben.page.waitForFunction(() => {
      const a = [...document.querySelectorAll('[data-testid=attachment-download]')].pop();
      return a && a.getAttribute('href') !== '#';
    });
    assert((await link.innerText()).includes('report.pdf'), 'file name shown');
    const href = await link.getAttribute('href');
    const res = await fetch(new URL(href, BASE_URL));
    const cd = res.headers.get('content-disposition') ?? '';
    assert(res.status === 200 && cd.startsWith('attachment'), `downloads as an attachment: ${res.status} ${cd}`);
    assert(res.headers.get('content-type')?.startsWith('application/pdf'), 'PDF type');
    const [download] = await Promise.all([ben.page.waitForEvent('download', { timeout: 10000 }), link.click()]);
    assert(download.suggestedFilename().endsWith('.pdf'), `browser downloads it: ${download.suggestedFilename()}`);
  });

  await test('media: cancelling an upload mid-way posts nothing', async () => {
    const before = await ben.page.getByTestId('message').count();
    const cdp = await throttleUploads(ann.page, 100 * 1024);
    await fileInput(ann).setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: makePng(800, 800, true) });
    await ann.page.getByTestId('upload-progress').first().waitFor({ timeout: 5000 });
    await ann.page.getByRole('button', { name: 'Cancel upload of big.png' }).click();
    await chips(ann).first().waitFor({ state: 'detached', timeout: 3000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    // Send with nothing typed: nothing goes out.
    await sendBtn(ann).click();
    await ann.page.waitForTimeout(1500);
    assert((await ben.page.getByTestId('message').count()) === before, 'no message posted');
    assert((await ann.page.locator('[data-state=sending]').count()) === 0, 'nothing queued');
  });

  await test("media: an unsupported file shows the server's error in place", async () => {
    const exe = Buffer.concat([
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00', 'latin1'),
      Buffer.alloc(400),
    ]);
    await fileInput(ann).setInputFiles({ name: 'setup.exe', mimeType: 'application/octet-stream', buffer: exe });
    const err = ann.page.getByTestId('upload-error');
    await err.waitFor({ timeout: 10000 });
    const text = await err.innerText();
    console.log(`  # server said: ${text}`);
    assert(text.length > 5 && text !== 'upload failed', `a clear error: ${text}`);
    await shot(ann, 'media-04-error');
    await ann.page.getByRole('button', { name: 'Remove setup.exe' }).click();
    await chips(ann).first().waitFor({ state: 'detached', timeout: 3000 });
  });

  await test('media: offline, the attach button explains that files need a connection; text still queues', async () => {
    await ann.context.setOffline(true);
    // aria-disabled (not disabled): it stays focusable and says why when activated.
    const attach = ann.page.getByRole('button', { name: 'Attach files (needs a connection)' });
    await attach.focus();
    await ann.page.keyboard.press('Enter');
    await ann.page
      .getByRole('status')
      .filter({ hasText: 'Files need a connection' })
      .first()
      .waitFor({ timeout: 3000 });
    await send(ann, 'queued while offline');
    await ann.page.locator('[data-state=sending]').first().waitFor({ timeout: 3000 });
    await ann.context.setOffline(false);
    await waitText(ben, 'queued while offline', 30000);
  });

  await test('media: a voice note is recorded with a running clock, sent as a .weba attachment and plays on the other side', async () => {
    // Its own browser: a fake microphone, permission granted without a prompt.
    const vb = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
      ],
    });
    try {
      const page = await (await vb.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
      page.on('pageerror', (e) => console.log(`  [ann/voice pageerror] ${e.message}`));
      await page.goto(`${BASE_URL}/`);
      await page.getByLabel('Username or email').fill(ann.username);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.locator('form').getByRole('button', { name: 'Log in' }).click();
      await page.getByTestId('banner').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
      await page.getByTestId('room-item').filter({ hasText: 'Ben' }).first().click();
      await page.getByRole('button', { name: 'Record a voice note' }).click();
      const stop = page.getByRole('button', { name: 'Stop and attach voice note' });
      await page.waitForFunction(() => document.querySelector('.rec-time')?.textContent === '0:02', null, {
        timeout: 10000,
      });
      await stop.click();
      const chip = page.locator('[data-testid=upload-chip][data-state=done]');
      await chip.waitFor({ timeout: 20000 });
      assert(/voice-.*\.weba/.test(await chip.innerText()), `named .weba: ${await chip.innerText()}`);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      const audio = ben.page.getByTestId('attachment-audio').last();
      await audio.waitFor({ timeout: 15000 });
      await ben.page.waitForFunction(
        () => {
          const a = [...document.querySelectorAll('[data-testid=attachment-audio] audio')].pop();
          return a && a.readyState >= 1;
        },
        null,
        { timeout: 15000 },
      );
      await shot(ben, 'media-05-voice-note');
    } finally {
      await vb.close().catch(() => {});
    }
  });

  await test('media: two images in one message; the lightbox steps between them with the arrow keys', async () => {
    await fileInput(ann).setInputFiles([
      { name: 'one.png', mimeType: 'image/png', buffer: makePng(300, 200) },
      { name: 'two.png', mimeType: 'image/png', buffer: makePng(200, 300) },
    ]);
    await ann.page.waitForFunction(
      () => document.querySelectorAll('[data-testid=upload-chip][data-state=done]').length === 2,
      null,
      { timeout: 20000 },
    );
    await send(ann, 'two pics');
    await waitText(ben, 'two pics');
    const thumbs = ben.page.getByTestId('message').filter({ hasText: 'two pics' }).getByTestId('attachment-image');
    assert((await thumbs.count()) === 2, 'two thumbnails');
    // The server's blurhash is drawn under each thumbnail as the placeholder.
    assert((await thumbs.locator('canvas.att-blur').count()) === 2, 'blurhash placeholders');
    await thumbs.first().click();
    const title = ben.page.locator('.lightbox-title');
    await title.filter({ hasText: 'one.png (1 of 2)' }).waitFor();
    await ben.page.keyboard.press('ArrowRight');
    await title.filter({ hasText: 'two.png (2 of 2)' }).waitFor();
    await ben.page.keyboard.press('ArrowRight');
    await title.filter({ hasText: 'one.png (1 of 2)' }).waitFor();
    await ben.page.keyboard.press('ArrowLeft');
    await title.filter({ hasText: 'two.png (2 of 2)' }).waitFor();
    await ben.page.keyboard.press('Escape');
    await ben.page.getByRole('dialog', { name: 'Image viewer' }).waitFor({ state: 'detached' });
  });

  await test('media: a file dropped onto the room is uploaded and sent', async () => {
    const b64 = makePng(120, 90).toString('base64');
    await ann.page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      const room = document.querySelector('section.room');
      for (const type of ['dragenter', 'dragover'])
        room.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      window.__dropHint = !!document.querySelector('.drop-hint');
      room.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, b64);
    assert(await ann.page.evaluate(() => window.__dropHint), 'the drop hint shows while dragging');
    assert((await ann.page.locator('.drop-hint').count()) === 0, 'the hint goes after the drop');
    await ann.page
      .locator('[data-testid=upload-chip][data-state=done]')
      .filter({ hasText: 'dropped.png' })
      .waitFor({ timeout: 20000 });
    await send(ann, 'dropped in');
    await waitText(ben, 'dropped in');
    await ben.page.waitForFunction(
      () => {
        const m = [...document.querySelectorAll('[data-testid=message]')].find((e) =>
          e.textContent.includes('dropped in'),
        );
        const i = m?.querySelector('[data-testid=attachment-image] img');
        return i?.complete && i.naturalWidth > 0;
      },
      null,
      { timeout: 15000 },
    );
  });

  await test('media: at 360 px wide thumbnails, file cards and the attach controls fit', async () => {
    await ben.page.setViewportSize({ width: 360, height: 740 });
    try {
      await ben.page.getByRole('button', { name: 'Attach files' }).waitFor();
      await ben.page.waitForTimeout(300);
      const overflow = await ben.page.evaluate(
        () =>
          [...document.querySelectorAll('.att-image, .att-file, .att-player, .composer-media button')]
            .filter((el) => el.getClientRects().length)
            .map((el) => el.getBoundingClientRect())
            .filter((r) => r.right > window.innerWidth + 0.5 || r.left < -0.5).length,
      );
      assert(overflow === 0, `${overflow} media elements overflow at 360 px`);
      assert(
        await ben.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        'no horizontal scroll',
      );
      await shot(ben, 'media-06-360px');
    } finally {
      await ben.page.setViewportSize({ width: 1100, height: 760 });
    }
  });
}
