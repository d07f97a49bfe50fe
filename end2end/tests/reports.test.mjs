// The reports in a real headless Chromium: a manager opens each from the site, reads the
// consumption report's totals and top consumers and the collections by day and source, and
// downloads each as CSV.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BASE, assertNoProblems, hydrated, launch, openPage, screenshot, signIn, waitForServer } from './support.mjs';

let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a manager reads the consumption report and downloads it as CSV', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  const siteUrl = page.url();
  // The demo's meters report once an hour: read one in each building now, as a manager would
  // before a report, so both have use on record.
  for (const serial of ['EL-A2', 'EL-B2']) {
    await page.goto(siteUrl);
    await page.locator('a.chip', { hasText: serial }).first().click();
    await page.waitForURL(/\/meters\/\d+$/);
    await hydrated(page);
    await page.getByRole('button', { name: 'Read now' }).click();
    await page.locator('tr.command[data-command="read"][data-status="acknowledged"]').waitFor({ timeout: 15_000 });
  }
  await page.goto(siteUrl);
  await page.getByRole('link', { name: 'Consumption report' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/reports$/);

  // The last 30 days up to tomorrow (the site's day may be ahead of UTC's), chosen with the
  // form: a plain GET, the address carries them.
  const now = Date.now();
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  const from = day(now - 30 * 86_400_000);
  await page.fill('input[name="from"]', from);
  await page.fill('input[name="to"]', day(now + 86_400_000));
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(new RegExp(`/reports\\?from=${from}&to=`));
  // The readings are rated a moment after the meters answer: ask again until both are in.
  for (let tries = 0; tries < 20; tries += 1) {
    const shown = await page.locator('tr.building-total th').allTextContents();
    if (shown.includes('Block A') && shown.includes('Block B')) break;
    await page.waitForTimeout(500);
    await page.reload();
  }
  await page.locator('dl.report-totals').waitFor();
  const electricity = await page.textContent('[data-total="electricity"]');
  // Thousands grouped on the page, as every amount; the file keeps the plain number.
  assert.match(electricity, /^\d{1,3}(,\d{3})*(\.\d+)? kWh$/);
  const bars = await page.locator('figure.top-chart.meter-electricity rect.bar').count();
  assert.ok(bars > 0 && bars <= 10, `top consumers drawn (${bars})`);
  const buildings = await page.locator('tr.building-total th').allTextContents();
  assert.ok(buildings.includes('Block A') && buildings.includes('Block B'), `a line per building and utility (${buildings})`);
  await screenshot(page, 'manager-consumption-report');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download every unit as CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), new RegExp(`^consumption-${from}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'building,unit,utility,quantity,measure,cost (KES),from,to');
  const site = csv.find((line) => line.startsWith('(site),(total),electricity,'));
  assert.ok(site, 'the site total is in the file');
  // The file's site total is the page's.
  assert.equal(`${site.split(',')[3]} kWh`, electricity.replaceAll(',', ''));
  assertNoProblems(problems);
  await context.close();
});

test('a manager reads what the site received, by day and source, and downloads it', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Collections' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/collections$/);
  // This month so far: the demo's opening top-ups (sandbox) and the cash the accounts test
  // took at the desk.
  const whole = await page.textContent('[data-total="all"]');
  assert.match(whole, /^[\d,]+\.\d{2} KES$/);
  assert.match(await page.textContent('[data-total="cash"]'), /^[\d,]+\.\d{2} KES$/);
  assert.match(await page.textContent('[data-total="sandbox"]'), /^[\d,]+\.\d{2} KES$/);
  const days = await page.locator('tr.collection-day').count();
  assert.ok(days >= 1, `a line per day with receipts (${days})`);
  assert.equal(await page.locator('tr.collection-day rect.bar').count(), days);
  await page.locator('[data-owed="below_zero"]').waitFor();
  await screenshot(page, 'manager-collections');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^collections-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'day,source,amount (KES)');
  // The file's whole is the page's (without the thousands separators).
  const all = csv.at(-1).split(',');
  assert.equal(all[1], '(all)');
  assert.equal(`${all[2]} KES`, whole.replaceAll(',', ''));
  assertNoProblems(problems);
  await context.close();
});

test('a manager reads the warnings and cut-offs of the month and downloads them', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Warnings and cut-offs' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/supply$/);
  await page.getByRole('heading', { name: /^Warnings and cut-offs · Riverside Campus$/ }).waitFor();
  const count = async (kind) => Number(await page.textContent(`[data-total="${kind}"]`));
  const totals = {
    warnings: await count('warnings'),
    cut_offs: await count('cut_offs'),
    reconnections: await count('reconnections'),
  };
  // The demo opens a few accounts with nothing on them: each is cut at its first reading.
  assert.ok(totals.cut_offs >= 1, `the demo's empty accounts were cut (${JSON.stringify(totals)})`);
  assert.ok(await count('cut_now') >= 1);
  const days = await page.locator('tr.supply-day').count();
  assert.ok(days >= 1, `a line per day with something to count (${days})`);
  let cutByDay = 0;
  for (const cell of await page.locator('tr.supply-day td[data-count="cut_offs"]').allTextContents()) {
    cutByDay += Number(cell);
  }
  assert.equal(cutByDay, totals.cut_offs, 'the days add up to the total');
  await screenshot(page, 'manager-warnings-and-cut-offs');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^supply-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'day,warnings,cut_offs,reconnections');
  assert.equal(csv.length, days + 2, 'a line per day and the totals');
  const last = csv.at(-1).split(',').slice(1).map(Number);
  assert.deepEqual(last, [totals.warnings, totals.cut_offs, totals.reconnections]);
  assertNoProblems(problems);
  await context.close();
});

test('a manager prints every statement of a building for the month', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Monthly statements' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/statements$/);
  await page.locator('select[name="building"]').selectOption('Block A');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/\/statements\?month=\d{4}-\d{2}&building=Block\+A$/);
  const shown = Number(await page.locator('.batch-totals').getAttribute('data-statements'));
  assert.ok(shown >= 1, 'the demo opened accounts in Block A this month');
  assert.equal(await page.locator('article.month-statement').count(), shown);
  const units = await page.locator('article.month-statement .facts div:nth-child(2) dd').allTextContents();
  assert.ok(units.every((unit) => unit.endsWith('· Block A')), `${units}`);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('h1').isVisible(), false, 'printed, only the statements');
  assert.equal(await page.locator('article.month-statement').first().isVisible(), true);
  await page.emulateMedia({ media: 'screen' });
  await screenshot(page, 'manager-statements');
  assertNoProblems(problems);
  await context.close();
});

test('a manager reads the site\'s use by time-of-use band and downloads every unit\'s line', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Time-of-use bands' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/bands$/);
  await page.getByRole('heading', { name: 'Time-of-use bands · Riverside Campus' }).waitFor();
  // The last 30 days up to tomorrow: the first test read a meter in each building.
  const now = Date.now();
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  await page.fill('input[name="from"]', day(now - 30 * 86_400_000));
  await page.fill('input[name="to"]', day(now + 86_400_000));
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/\/bands\?from=/);
  const electricity = page.locator('section.band-report[data-utility="electricity"]');
  await electricity.waitFor();
  // The four bands' shares add up to the whole (each rounded: within a point or two).
  const shares = (await electricity.locator('tr.band td[data-share]').evaluateAll((cells) => cells.map((td) => Number(td.dataset.share))));
  assert.equal(shares.length, 4);
  const micro = await electricity.locator('tr.band').evaluateAll((rows) => rows.map((tr) => Number(tr.dataset.micro)));
  if (micro.some((m) => m > 0)) {
    const sum = shares.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 100) <= 2, `shares ${shares}`);
  }
  // Each band's bar is drawn over a paler whole, so its length reads as its share (they were
  // once all black on black, every band looking like the whole).
  const fills = await electricity.locator('tr.band svg').first()
    .evaluate((svg) => ['rect.whole', 'rect.bar'].map((rect) => getComputedStyle(svg.querySelector(rect)).fill));
  assert.notEqual(fills[0], fills[1], `the whole and the bar: ${fills}`);
  const href = await page.getAttribute('a.csv-download', 'href');
  const csv = await page.evaluate(async (url) => (await fetch(url)).text(), href);
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'building,unit,utility,peak,shoulder,flat,valley,total,peak_percent');
  assert.ok(lines.some((line) => line.startsWith(',,electricity,')), 'the site total of electricity');
  await screenshot(page, 'manager-bands');
  assertNoProblems(problems);
  await context.close();
});
