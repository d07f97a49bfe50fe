// Two-factor sign-in in a real headless Chromium, under the pages' Content-Security-Policy: an
// admin scans nothing but reads the key, sets an authenticator up with the code computed here
// (RFC 6238, as an app would), signs in again with password and code, and turns it off.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { BASE, assertNoProblems, hydrated, launch, openPage, screenshot, signIn, waitForServer } from './support.mjs';

let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.replace(/\s/g, '')) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/// The six-digit code for the 30-second step `offset` steps from now.
function totp(secret, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigInt64BE(BigInt(step));
  const digest = createHmac('sha1', secret).update(counter).digest();
  const at = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(at) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

/// Waits for the next 30-second step, so a code not used yet is current.
async function nextStep() {
  const ms = 30_000 - (Date.now() % 30_000) + 200;
  await new Promise((resolve) => setTimeout(resolve, ms));
}

test('an admin sets an authenticator up, signs in with its code, and turns it off', async () => {
  const { context, page, problems } = await openPage(browser, { width: 1280, height: 900 });
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('link', { name: 'Two-factor sign-in' }).click();
  await page.waitForURL(`${BASE}/account/two-factor`);
  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  await page.waitForURL(`${BASE}/account/two-factor?setup`);
  assert.ok(await page.locator('.qr svg').isVisible(), 'the QR code is drawn');
  const secret = base32Decode(await page.locator('code.secret').textContent());
  assert.equal(secret.length, 20);
  await screenshot(page, 'two-factor-setup');
  await page.getByLabel('Code').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn two-factor sign-in on' }).click();
  await page.waitForURL(`${BASE}/account/two-factor?on`);
  await page.getByText('Two-factor sign-in is on:').waitFor();

  // Another browser: the password leads to the code, and the code signs in.
  const second = await openPage(browser, { width: 390, height: 844 });
  await signIn(second.page, 'admin@demo.example');
  await second.page.waitForURL(`${BASE}/sign-in/code`);
  await hydrated(second.page);
  await second.page.getByLabel('Code').fill(totp(secret, 1));
  await second.page.getByRole('button', { name: 'Sign in' }).click();
  await second.page.waitForURL(`${BASE}/manage`);
  await screenshot(second.page, 'two-factor-signed-in');
  assertNoProblems(second.problems);
  await second.context.close();

  // Off again with a code not used yet (the demo's admin is shared with the other tests).
  await nextStep();
  await page.goto(`${BASE}/account/two-factor`);
  await page.getByLabel('A current code, to turn it off').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Turn two-factor sign-in off' }).click();
  await page.getByRole('link', { name: 'Set up an authenticator app' }).waitFor();
  assertNoProblems(problems);
  await context.close();
});
