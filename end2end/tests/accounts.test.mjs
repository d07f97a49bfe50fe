// Prepaid accounts in a real headless Chromium: a resident reads their credit, a manager
// takes cash at the desk and sees the receipt and the new balance without a reload.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, assertNoProblems, hydrated, launch, openPage, screenshot, signIn, waitForServer } from './support.mjs';
import { readFile } from 'node:fs/promises';

let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a resident sees the credit of each utility and opens a statement', async () => {
  const { context, page, problems } = await openPage(browser, { width: 360, height: 740 });
  await signIn(page, 'a102@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.getByRole('heading', { name: 'Your credit' }).waitFor();
  assert.equal(await page.locator('article.account').count(), 3);
  const card = page.locator('article.account').first();
  assert.match(await card.textContent(), /KES/);
  assert.equal(await page.locator('article.account a.button', { hasText: 'Top up' }).count(), 3, 'one tap to top up each');
  await screenshot(page, 'resident-credit-360px');
  await card.locator('h2 a').click();
  await page.waitForURL(/\/accounts\/\d+$/);
  await hydrated(page);
  await page.locator('.balance .amount').waitFor();
  assert.match(await page.textContent('main'), /Account A\d{7}/);
  assert.equal(await page.locator('.money-form').count(), 0, 'residents take no cash');

  // Usage as an SVG bar chart with a table behind it: this month by day, then today by hour,
  // then the day before, without leaving the page.
  const chart = page.locator('figure.usage-chart');
  await chart.locator('svg[role="img"]').waitFor();
  const days = await chart.locator('tbody tr').count();
  assert.ok(days >= 28 && days <= 31, `a row per day of the month (${days})`);
  assert.equal(await chart.locator('rect.bar').count(), days);
  assert.match(await chart.locator('svg').getAttribute('aria-label'), /in total/);
  await page.getByRole('button', { name: 'Day', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('figure.usage-chart tbody tr').length === 24);
  const today = await page.textContent('.usage-title');
  await page.getByRole('button', { name: '← Before' }).click();
  await page.waitForFunction((title) => document.querySelector('.usage-title')?.textContent !== title, today);
  assert.equal(await page.getByRole('button', { name: 'After →' }).isDisabled(), false);
  await screenshot(page, 'resident-usage-360px');
  assertNoProblems(problems);
  await context.close();
});

test('a resident previews a bill and a top-up, priced in the browser', async () => {
  const { context, page, problems } = await openPage(browser, { width: 360, height: 740 });
  await signIn(page, 'a102@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.locator('article.account h2 a', { hasText: 'Electricity' }).click();
  await page.waitForURL(/\/accounts\/\d+$/);
  await hydrated(page);
  const planner = page.locator('section.planner');
  await planner.waitFor();
  let calls = 0;
  page.on('request', (request) => { if (request.url().includes('/api/')) calls += 1; });

  // What 10 kWh cost in each band: the evening peak dearer than normal hours, the night cheaper.
  const cost = async (band) => {
    await page.selectOption('select[name="preview-band"]', band);
    const text = await page.textContent('.preview-cost');
    const match = text.match(/^10 kWh would cost KES ([\d,]+\.\d{2})\.$/);
    assert.ok(match, `a priced preview (${text})`);
    return Number(match[1].replaceAll(',', ''));
  };
  await page.fill('input[name="preview-quantity"]', '10');
  const [peak, flat, valley] = [await cost('peak'), await cost('flat'), await cost('valley')];
  assert.ok(peak > flat && flat > valley, `peak ${peak} > normal ${flat} > night ${valley}`);
  await page.fill('input[name="preview-quantity"]', 'ten');
  assert.match(await page.textContent('.preview-cost'), /Write a positive number/);

  await page.fill('input[name="preview-amount"]', '500');
  assert.match(await page.textContent('.preview-lasts'), /^KES 500\.00 buys about [\d.,]+ kWh at today's prices\.( At your average of [\d.,]+ kWh a day, with the daily charge, it lasts about [\d.]+ days\.)?$/);
  assert.equal(calls, 0, 'previews ask the server nothing');
  await planner.locator('h3', { hasText: 'Ways to save' }).waitFor();
  await screenshot(page, 'resident-planner-360px');

  // Transactions narrowed to usage, and the CSV holds what is shown.
  await page.selectOption('select[name="statement-what"]', 'usage');
  // The server draws the lines the filter lets through; the list is busy until they arrive.
  await page.waitForSelector('.statement-results[aria-busy="false"]', { state: 'attached' });
  const rows = await page.locator('.statement tbody tr').count();
  assert.ok(rows > 0, 'usage lines');
  assert.equal(await page.locator('.statement tbody tr:not(.line-usage):not(.line-periodic)').count(), 0);
  const csv = decodeURIComponent((await page.getAttribute('a[download="transactions.csv"]', 'href')).split(',').slice(1).join(','));
  assert.equal(csv.trim().split('\n').length, rows + 1, 'a CSV line per row shown, after the header');
  assertNoProblems(problems);
  await context.close();
});

test('a manager searches the accounts table and takes cash for an account, whose balance rises once', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.click('a.accounts-link');
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  // The demo's 216 accounts, lowest balance first, a hundred to a page.
  assert.equal(await page.getAttribute('.totals', 'data-matching'), '216');
  assert.equal(await page.locator('tr.account-row').count(), 100);
  assert.equal(await page.textContent('.page-of'), 'Page 1 of 3');
  await page.click('a[rel="next"]');
  await page.waitForURL(/page=2/);
  assert.equal(await page.textContent('.page-of'), 'Page 2 of 3');
  // Only Block B's accounts low on credit, fewest days left first.
  await page.selectOption('select[name="state"]', 'low');
  await page.selectOption('select[name="building"]', 'Block B');
  await page.click('button:has-text("Search")');
  await page.waitForURL(/state=low/);
  const matching = Number(await page.getAttribute('.totals', 'data-matching'));
  assert.ok(matching > 0 && matching < 216, `filtering by state and building (${matching} match)`);
  assert.equal(await page.textContent('.page-of'), 'Page 1 of 1');
  await page.click('a.sort[data-sort="days_left"]');
  await page.waitForURL(/sort=days_left/);
  assert.equal(await page.getAttribute('th:has(a[data-sort="days_left"])', 'aria-sort'), 'ascending');
  const rows = page.locator('tr.account-row');
  assert.equal(await rows.count(), matching);
  for (const state of await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.state))) {
    assert.equal(state, 'low');
  }
  for (const text of await rows.locator('th').allTextContents()) {
    assert.match(text, /^Block B · /);
  }
  // The download holds the same search.
  const download = await page.getAttribute('a.download', 'href');
  assert.match(download, /accounts\.csv\?state=low&building=Block%20B&sort=days_left&order=asc$/);
  const csv = await page.evaluate(async (href) => (await fetch(href)).text(), download);
  assert.equal(csv.trim().split('\n').length, matching + 1);
  await screenshot(page, 'manager-accounts-table');
  await rows.first().locator('a').click();
  await page.waitForURL(/\/accounts\/\d+$/);
  await hydrated(page);
  const before = Number(await page.getAttribute('.balance .amount', 'data-balance'));
  await page.fill('input[name="amount"] >> nth=0', '150');
  await page.getByRole('button', { name: 'Record cash top-up' }).click();
  const receipt = page.locator('.receipt');
  await receipt.waitFor();
  assert.match(await receipt.textContent(), /Receipt R\d+-\d{6}: 150\.00 received/);
  await page.waitForFunction(
    (expected) => document.querySelector('.balance .amount')?.dataset.balance === String(expected),
    before + 15000,
  );
  assert.match(await page.textContent('.statement'), /Cash top-up/);
  await screenshot(page, 'manager-cash-receipt');
  assertNoProblems(problems);
  await context.close();
});

test('a resident reads the month\'s statement, the month before, prints it and downloads it', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'a109@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.locator('article.account h2 a').first().click();
  await page.waitForURL(/\/accounts\/\d+$/);
  await page.getByRole('link', { name: 'Monthly statement' }).click();
  await page.waitForURL(/\/accounts\/\d+\/statement$/);
  await page.getByRole('heading', { name: /^Statement for \w+ \d{4}$/ }).waitFor();
  const amount = async (total) => page.textContent(`.statement-summary [data-total="${total}"] td`);
  // The lines take the opening balance to the closing one: the last line's balance is it.
  const closing = await amount('closing');
  const balances = await page.locator('.statement-lines tbody td:nth-child(4)').allTextContents();
  assert.ok(balances.length >= 1, 'the demo account moved this month');
  assert.equal(balances.at(-1), closing);
  const opening = await amount('opening');
  await screenshot(page, 'resident-month-statement');

  // The month before closed with what this one opened with.
  await page.getByRole('link', { name: '← Previous month' }).click();
  await page.waitForURL(/\/statement\?month=\d{4}-\d{2}$/);
  await page.locator('.statement-summary').waitFor();
  assert.equal(await amount('closing'), opening);
  await page.getByRole('link', { name: 'Next month →' }).click();
  await page.locator('.statement-summary').waitFor();
  assert.equal(await amount('opening'), opening);

  // Printed, the page is the statement alone; the button asks the browser to print.
  await page.evaluate(() => {
    window.printed = 0;
    window.print = () => { window.printed += 1; };
  });
  await page.getByRole('button', { name: 'Print' }).click();
  assert.equal(await page.evaluate(() => window.printed), 1);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.top').isVisible(), false);
  assert.equal(await page.locator('.month-controls').isVisible(), false);
  assert.equal(await page.locator('.month-statement h1').isVisible(), true);
  await page.emulateMedia({ media: 'screen' });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^statement-A\d{7}-\d{4}-\d{2}\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'date,kind,description,amount,balance,currency,receipt');
  assert.equal(csv.length, balances.length + 3, 'the opening, every line and the closing');
  assert.equal(csv.at(-1).split(',')[4], closing.replace(/,/g, ''));
  assertNoProblems(problems);
  await context.close();
});
