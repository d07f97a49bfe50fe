// The resident portal as an installed app, in a real headless Chromium: the manifest and its
// icons, the service worker, installability as Chromium judges it, notification settings,
// balances offline from the last visit, and nothing left behind after signing out.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, assertNoProblems, hydrated, launch, launchProfile, openPage, screenshot, signIn, waitForServer } from './support.mjs';

let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('the manifest is valid and its icons are real PNGs of the sizes it names', async () => {
  const response = await fetch(`${BASE}/manifest.webmanifest`);
  assert.equal(response.status, 200);
  const manifest = await response.json();
  assert.equal(manifest.start_url, '/');
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.name && manifest.short_name);
  for (const size of [192, 512]) {
    const icon = manifest.icons.find((entry) => entry.sizes === `${size}x${size}`);
    assert.ok(icon, `a ${size} px icon`);
    const image = Buffer.from(await (await fetch(`${BASE}${icon.src}`)).arrayBuffer());
    assert.deepEqual([...image.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    // The IHDR chunk holds width and height, big-endian, at bytes 16 and 20.
    assert.equal(image.readUInt32BE(16), size);
    assert.equal(image.readUInt32BE(20), size);
  }
});

test('the service worker registers, Chromium finds the app installable, and offline shows the last balances', async () => {
  const { context, page, problems } = await launchProfile({ width: 360, height: 740 });
  try {
    await signIn(page, 'a103@demo.example');
    await page.waitForURL(`${BASE}/`);
    await hydrated(page);
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, `${BASE}/`);
    await page.waitForSelector('html[data-service-worker="registered"]', { state: 'attached' });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], JSON.stringify(installabilityErrors));
    // A second DevTools session would keep the page's network state online below.
    await cdp.detach();

    // Seen once online (now under the worker's control), then offline: the same balances.
    await page.reload();
    await page.getByRole('heading', { name: 'Your credit' }).waitFor();
    const online = await page.locator('article.account').first().textContent();
    await context.setOffline(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Your credit' }).waitFor();
    assert.equal(await page.locator('article.account').first().textContent(), online);
    await page.waitForSelector('html[data-offline]', { state: 'attached', timeout: 10_000 });
    await screenshot(page, 'resident-offline-360px');
    await context.setOffline(false);

    // Signing out leaves nothing of this person in the browser's caches (the sign-in page
    // loaded after it may put the public shell back).
    await page.reload();
    await hydrated(page);
    const cached = () => page.evaluate(async () => {
      let personal = 0;
      for (const key of await caches.keys()) {
        for (const request of await (await caches.open(key)).keys()) {
          if (/^\/(accounts\/\d+)?$/.test(new URL(request.url).pathname)) personal += 1;
        }
      }
      return personal;
    });
    assert.ok((await cached()) > 0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${BASE}/sign-in`);
    for (let tries = 0; (await cached()) > 0; tries++) {
      assert.ok(tries < 50, 'the caches are emptied');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const offlineNoise = /ERR_INTERNET_DISCONNECTED|Failed to fetch|Failed to load resource/;
    assertNoProblems(problems.filter((problem) => !offlineNoise.test(problem)));
  } finally {
    await context.close();
  }
});

test('a resident chooses which notices to get, quiet hours and language', async () => {
  const { context, page, problems } = await openPage(browser, { width: 360, height: 740 });
  await signIn(page, 'a104@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.getByRole('link', { name: 'Notices' }).click();
  await page.waitForURL(`${BASE}/notifications`);
  await hydrated(page);
  // Chromium can take push here; the button offers it (subscribing needs Google's service).
  await page.getByRole('button', { name: 'Turn on notices on this device' }).waitFor();
  await page.getByLabel('Payments received').uncheck();
  await page.fill('input[name="quiet_from"]', '22:00');
  await page.fill('input[name="quiet_to"]', '06:30');
  await page.selectOption('select[name="locale"]', 'zh');
  await page.getByRole('button', { name: 'Save' }).click();
  // The page comes back saying so, already in the language chosen for the notices.
  await page.locator('p.saved[role="status"]').waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'zh');
  await screenshot(page, 'resident-notices-360px');

  // The pages stay in it, and hydrate in it.
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh');
  await page.getByRole('heading', { name: '通知', exact: true }).waitFor();
  assert.equal(await page.getByLabel('收到付款').isChecked(), false);
  assert.equal(await page.isChecked('input[name="low_balance"]'), true);
  assert.equal(await page.inputValue('input[name="quiet_from"]'), '22:00');
  assert.equal(await page.inputValue('input[name="quiet_to"]'), '06:30');
  assert.equal(await page.inputValue('select[name="locale"]'), 'zh');

  // The same start and end is refused in words, and changes nothing.
  await page.fill('input[name="quiet_to"]', '22:00');
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByRole('alert').filter({ hasText: 'quiet hours need a start and an end that differ' }).waitFor();
  await page.reload();
  assert.equal(await page.inputValue('input[name="quiet_to"]'), '06:30');
  // The refused save's 422 is the browser's only complaint.
  assertNoProblems(problems.filter((problem) => !/status of 422/.test(problem)));
  await context.close();
});
