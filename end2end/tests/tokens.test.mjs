// Keypad meters in a real headless Chromium: the demo's A-106 electricity meter takes
// OpenPAYGO tokens. Its resident tops up through the sandbox and gets the token on the payment's
// page and the account page, and sends it again; a manager sees it in the meter's history,
// asks for a set-credit token that waits for a second person, and cannot approve it alone.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, assertNoProblems, hydrated, launch, openPage, screenshot, signIn, waitForServer } from './support.mjs';

let browser;
let meterUrl;
let digits;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a resident of a keypad meter pays and gets one token to type', async () => {
  const { context, page, problems } = await openPage(browser, { width: 360, height: 740 });
  await signIn(page, 'a106@demo.example');
  await page.waitForURL(`${BASE}/`);
  const meterLink = page.locator('li.meter-electricity a.serial').first();
  await meterLink.waitFor();
  meterUrl = new URL(await meterLink.getAttribute('href'), BASE).href;
  const card = page.locator('article.account', { hasText: 'Electricity' }).first();
  await card.locator('h2 a').click();
  await page.waitForURL(/\/accounts\/\d+$/);
  const accountUrl = page.url();
  await page.getByRole('link', { name: 'Top up' }).click();
  await page.waitForURL(/\/top-up$/);
  await hydrated(page);
  await page.getByRole('button', { name: '500.00 KES' }).click();
  await page.getByRole('button', { name: 'Pay', exact: true }).click();
  await page.waitForURL(/\/pay\/sandbox\/pay_/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Pay', exact: true }).click();

  // The payment's page shows the token once it is issued (it is redrawn while open).
  await page.waitForURL(/\/payments\/pay_/);
  await page.locator('article.payment[data-status="paid"]').waitFor();
  const token = page.locator('section.token[data-status="issued"] .token-digits');
  await token.waitFor({ timeout: 20000 });
  digits = (await token.textContent()).trim();
  assert.match(digits, /^\d{3} \d{3} \d{3} \d{3}$/, 'an extended (12-digit) token');
  // The whole payment became units: what stays in the wallet is less than one step (0.1 kWh).
  const left = Number(await page.getAttribute('.balance .amount', 'data-balance'));
  assert.ok(left >= 0 && left < 300, `less than a step's price stays as credit (${left})`);
  assert.match(await page.textContent('section.token h2'), /^Token for \d+(\.\d)? kWh$/);
  assert.match(await page.textContent('article.payment'), /your meter's token is below/);
  await screenshot(page, 'token-payment');

  // The account page's card shows the latest token, and the list has "Send again", a plain form.
  await page.goto(accountUrl);
  assert.equal((await page.textContent('.last-token .token-digits')).trim(), digits);
  const listed = page.locator('#tokens .token-digits').first();
  await listed.waitFor();
  assert.equal((await listed.textContent()).trim(), digits);
  await page.locator('#tokens').getByRole('button', { name: 'Send again' }).first().click();
  await page.waitForURL(/token_sent/);
  assert.match(await page.textContent('#tokens [role="status"]'), /Sent to your devices again/);
  assertNoProblems(problems);
  await context.close();
});

test('a manager sees the meter\'s tokens and a set-credit token waits for a second person', async () => {
  assert.ok(meterUrl, 'the first test found the meter');
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.goto(meterUrl);
  await hydrated(page);
  const panel = page.locator('section.token-meter');
  await panel.waitFor();
  assert.match(await panel.textContent(), /OpenPAYGO Token · extended digits · one step = 0\.1/);
  const issued = panel.locator('tr[data-status="issued"] .token-digits').first();
  assert.equal((await issued.textContent()).trim(), digits);

  await panel.locator('select[name="kind"]').selectOption('set_credit');
  await panel.locator('input[name="value"]').fill('50');
  await panel.getByRole('button', { name: 'Make token' }).click();
  await page.waitForURL(/#tokens$/);
  const waiting = page.locator('section.token-meter tr[data-status="awaiting_approval"]').first();
  await waiting.waitFor();
  await screenshot(page, 'token-meter');
  // The one who asked cannot approve: the reason shows and nothing changes.
  await waiting.getByRole('button', { name: 'Approve' }).click();
  await page.locator('section.token-meter .form-error').waitFor();
  assert.match(await page.textContent('section.token-meter .form-error'), /second person/);
  assert.equal(await page.locator('section.token-meter tr[data-status="awaiting_approval"]').count(), 1);
  assertNoProblems(problems);
  await context.close();
});
