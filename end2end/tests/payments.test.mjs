// Paying in a real headless Chromium: a resident whose supply is cut tops up through the
// sandbox provider, pays on its checkout page, and sees the receipt, the new balance and the
// supply back on, without reloading.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, assertNoProblems, hydrated, launch, openPage, screenshot, signIn, waitForServer } from './support.mjs';

let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a resident tops up through the sandbox and sees the balance and the reconnection', async () => {
  const { context, page, problems } = await openPage(browser, { width: 390, height: 844 });
  await signIn(page, 'a101@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.locator('article.account').first().waitFor();
  // The demo leaves some accounts empty; the periodic sweep cuts them at start.
  const cut = page.locator('article.account:has([data-state="cut"])');
  const card = (await cut.count()) > 0 ? cut.first() : page.locator('article.account').first();
  const wasCut = (await cut.count()) > 0;
  if (wasCut) {
    assert.match(await page.textContent('.banner-cut'), /is cut off\. Top up to restore it\./);
  }
  const account = await card.getAttribute('data-account');
  await card.locator('h2 a').click();
  await page.waitForURL(/\/accounts\/\d+$/);
  const accountUrl = page.url();
  await hydrated(page);
  const before = Number(await page.getAttribute('.balance .amount', 'data-balance'));
  // The home page stays open in another tab, as a resident would leave it.
  const home = await context.newPage();
  await home.goto(`${BASE}/`);
  await hydrated(home);
  const homeBalance = `article.account[data-account="${account}"] .balance .amount`;
  assert.equal(Number(await home.getAttribute(homeBalance, 'data-balance')), before);
  await page.getByRole('link', { name: 'Top up' }).click();
  await page.waitForURL(/\/accounts\/\d+\/top-up$/);
  await hydrated(page);
  await page.getByRole('button', { name: '500.00 KES' }).click();
  assert.equal(await page.inputValue('input[name="amount"]'), '500.00');
  await screenshot(page, 'resident-recharge');
  await page.getByRole('button', { name: 'Pay', exact: true }).click();

  // The sandbox's own checkout page.
  await page.waitForURL(/\/pay\/sandbox\/pay_/);
  await hydrated(page);
  assert.match(await page.textContent('main'), /500\.00 KES/);
  assert.match(await page.textContent('main'), /\*\*\*/, 'the payee is masked');
  await page.getByRole('button', { name: 'Pay', exact: true }).click();

  // Back on the platform: paid, numbered, credited, reconnected.
  await page.waitForURL(/\/payments\/pay_/);
  await page.locator('article.payment[data-status="paid"]').waitFor();
  assert.match(await page.textContent('.receipt'), /^R\d+-\d{6}$/);
  await page.waitForFunction(
    (expected) => document.querySelector('.balance .amount')?.dataset.balance === String(expected),
    before + 50000,
  );
  const state = await page.getAttribute('.supply .state', 'data-state');
  if (wasCut) {
    assert.ok(['on', 'armed'].includes(state), `the supply comes back (now ${state})`);
  }
  await screenshot(page, 'resident-paid');

  // The home page heard of it by itself, without a reload: balance up, banner gone.
  await home.waitForFunction(
    ([selector, expected]) => document.querySelector(selector)?.dataset.balance === String(expected),
    [homeBalance, before + 50000],
    { timeout: 30000 },
  );
  assert.equal(await home.locator(`[data-banner="${account}"].banner-cut`).count(), 0);
  await home.close();

  // The recharge page's history lists it, with a CSV download of the same.
  await page.goto(`${accountUrl}/top-up`);
  const row = page.locator('.history tbody tr').first();
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'paid');
  const csv = decodeURIComponent((await page.getAttribute('a[download="payments.csv"]', 'href')).split(',').slice(1).join(','));
  assert.match(csv, /^created_at,paid_at,account,provider,amount,currency,status,receipt,reference\n.*,sandbox,500\.00,KES,paid,R\d+-\d{6},/m);
  assertNoProblems(problems);
  await context.close();
});

test('someone not signed in pays for an account by its meter number', async () => {
  const { context, page, problems } = await openPage(browser, { width: 360, height: 740 });
  await page.goto(`${BASE}/sign-in`);
  await hydrated(page);
  await page.getByRole('link', { name: /Paying for someone/ }).click();
  await page.waitForURL(`${BASE}/pay`);
  await hydrated(page);
  await page.fill('input[name="reference"]', 'wa-b105');
  await page.getByRole('button', { name: 'Find' }).click();
  // The look-up is a plain form: the page comes back with the payee and the form to pay.
  await page.waitForURL(`${BASE}/pay?reference=wa-b105`);
  await hydrated(page);
  const payee = page.locator('.payee-name');
  await payee.waitFor();
  assert.match(await payee.textContent(), /^\S\*\*\*( \S\*\*\*)* · Water · Riverside Campus$/);
  await page.getByRole('button', { name: /^\d+\.00 KES$/ }).first().click();
  await page.fill('input[name="email"]', 'parent@example.org');
  await screenshot(page, 'public-pay');
  await page.getByRole('button', { name: 'Pay', exact: true }).click();
  await page.waitForURL(/\/pay\/sandbox\/pay_/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Pay', exact: true }).click();
  await page.waitForURL(/\/payments\/pay_/);
  await page.locator('article.payment[data-status="paid"]').waitFor();
  assert.match(await page.textContent('.receipt'), /^R\d+-\d{6}$/);
  assert.equal(await page.locator('article.account').count(), 0, 'a stranger sees no balance');
  assertNoProblems(problems);
  await context.close();
});

test('a manager pays a move-out refund through the sandbox and reconciles a settlement file', async () => {
  const { context, page, problems } = await openPage(browser, { width: 1280, height: 900 });
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Payments' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/payments$/);
  await hydrated(page);

  // The demo's former resident of B-410 is owed what they left.
  const row = page.locator('.payouts tr', { hasText: 'Wanjiru Kamau' });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'owed');
  assert.match(await row.textContent(), /1250\.00/);
  await row.locator('summary', { hasText: 'Pay' }).click();
  await screenshot(page, 'manager-payout');
  await row.getByRole('button', { name: /Send through Sandbox/ }).click();
  // Other payouts may be listed (a batch move-out's); this one's row turns paid.
  await page.waitForFunction(() => [...document.querySelectorAll('.payouts tr[data-status]')]
    .some((tr) => tr.textContent.includes('Wanjiru Kamau') && tr.dataset.status === 'paid'));
  assert.match(await page.locator('.payouts tr[data-status="paid"]', { hasText: 'Wanjiru Kamau' }).textContent(), /Sandbox.*sbx_payout_moveout-\d+-1/);

  // A settlement file naming a payment the ledger never saw: listed, with its line.
  await page.locator('summary', { hasText: 'Reconcile a settlement file' }).click();
  await page.selectOption('select[name="provider"]', 'sandbox');
  await page.fill('textarea[name="file"]', 'type,reference,amount\ncharge,ch_nobody_knows,42.00\nfee,f1,-1.00\n');
  await page.getByRole('button', { name: 'Compare with the ledger' }).click();
  const difference = page.locator('.reconciliation tr[data-difference="ch_nobody_knows"]');
  await difference.waitFor();
  assert.match(await difference.textContent(), /In the file, not in the ledger.*42\.00/);
  assert.match(await page.textContent('.reconciliation'), /1 line of fees or payouts skipped/);
  await screenshot(page, 'manager-reconciliation');
  assertNoProblems(problems);
  await context.close();
});
