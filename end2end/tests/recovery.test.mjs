// Getting back in without the password, in Chromium: a link by e-mail, a code by SMS. The
// server sends to the mail server and SMS provider `outbox.mjs` runs on loopback (started by
// .ci/test, which names its file in PREPAID_E2E_OUTBOX; without it, these are skipped outside CI).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BASE, launch, openPage, hydrated, signIn, screenshot, assertNoProblems, waitForServer,
} from './support.mjs';

const OUTBOX = process.env.PREPAID_E2E_OUTBOX;
let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});
after(async () => browser?.close());

/** What the outbox holds, newest last. */
function outbox() {
  assert.ok(OUTBOX, 'PREPAID_E2E_OUTBOX names the file outbox.mjs writes (.ci/test sets it)');
  return readFileSync(OUTBOX, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** Waits for a message matching `wanted` that was not there before. */
async function awaitMessage(wanted, seen = 0) {
  for (let i = 0; i < 100; i++) {
    const found = outbox().filter(wanted);
    if (found.length > seen) return found[found.length - 1];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('no such message reached the outbox');
}

test('a resident who forgot their password chooses a new one from the link e-mailed to them', { skip: !OUTBOX && !process.env.CI }, async () => {
  const { context, page, problems } = await openPage(browser, { width: 390, height: 844 });
  await page.goto(`${BASE}/sign-in`);
  await hydrated(page);
  await page.click('a[href="/forgot"]');
  await page.fill('input[name="contact"]', 'a107@demo.example');
  const toA107 = (m) => m.channel === 'email' && m.to.includes('a107@demo.example') && m.data.includes('/reset/');
  const before = outbox().filter(toA107).length;
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/forgot\?sent/);
  await page.getByText('a link is on its way').waitFor();
  const mail = await awaitMessage(toA107, before);
  assert.match(mail.data, /Subject: Choose a new password/);
  const token = mail.data.replace(/=\n/g, '').match(/\/reset\/([A-Za-z0-9_-]{43})/)[1];
  await page.goto(`${BASE}/reset/${token}`);
  await page.getByText('Choose a new password for a1•••@demo.example').waitFor();
  await page.fill('input[name="new"]', 'chosen after forgetting');
  await page.fill('input[name="confirm"]', 'chosen after forgetting');
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/sign-in\?reset/);
  await page.getByText('Your new password is saved').waitFor();
  await screenshot(page, 'recovery-reset-done');
  await signIn(page, 'a107@demo.example', 'chosen after forgetting');
  await page.waitForURL(`${BASE}/`);
  // The link is spent.
  await page.goto(`${BASE}/reset/${token}`);
  await page.getByText('This link has expired or was used already').waitFor();
  assertNoProblems(problems);
  await context.close();
});

test('a resident confirms their phone number and signs in with a code sent by SMS', { skip: !OUTBOX && !process.env.CI }, async () => {
  const phone = '+254700000108';
  const toPhone = (m) => m.channel === 'sms' && m.to === phone;
  const { context, page, problems } = await openPage(browser, { width: 390, height: 844 });
  await signIn(page, 'a108@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.goto(`${BASE}/notifications`);
  await hydrated(page);
  await page.fill('input[name="phone"]', '+254 700 000 108');
  await page.click('button:has-text("Send me a code")');
  await page.getByText('Type the code we sent to +254 ••• ••• 108').waitFor();
  const confirm = await awaitMessage(toPhone);
  assert.match(confirm.text, /^\d{6} is your code to confirm this number/);
  await page.fill('input[name="code"]', confirm.text.slice(0, 6));
  await page.click('button:has-text("Confirm")');
  await page.getByText(`Your number: ${phone}`).waitFor();
  // Now SMS can be chosen for notices.
  assert.equal(await page.isDisabled('input[name="by_sms"]'), false);
  await screenshot(page, 'recovery-phone-confirmed');
  await context.close();

  const fresh = await openPage(browser, { width: 390, height: 844 });
  await fresh.page.goto(`${BASE}/sign-in`);
  await hydrated(fresh.page);
  await fresh.page.click('a[href="/sign-in/phone"]');
  await fresh.page.fill('input[name="phone"]', phone);
  const seen = outbox().filter(toPhone).length;
  await fresh.page.click('button[type="submit"]');
  await fresh.page.getByText('a code is on its way by SMS').waitFor();
  const code = await awaitMessage(toPhone, seen);
  assert.match(code.text, /^\d{6} is your code to sign in/);
  await fresh.page.fill('input[name="code"]', code.text.slice(0, 6));
  await fresh.page.click('button[type="submit"]');
  await fresh.page.waitForURL(`${BASE}/`);
  await fresh.page.getByText('A-108').first().waitFor();
  assertNoProblems([...problems, ...fresh.problems]);
  await fresh.context.close();
});

test('a manager sees the notices the site sent and by which channel', { skip: !OUTBOX && !process.env.CI }, async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.click('a.notices-link');
  await page.getByRole('heading', { name: 'Notices sent' }).waitFor();
  // The demo's residents have no browser subscribed: their notices went by e-mail.
  await page.selectOption('select[name="channel"]', 'email');
  await page.click('button:has-text("Search")');
  await page.waitForURL(/channel=email/);
  const rows = page.locator('tr.delivery[data-channel="email"]');
  await rows.first().waitFor();
  assert.ok((await rows.count()) > 0);
  assert.match(await rows.first().innerText(), /•••@demo\.example/);
  await screenshot(page, 'recovery-manager-notices');
  assertNoProblems(problems);
  await context.close();
});
