// Bulk meters and the loss report in a real headless Chromium: a manager finds that a flat's
// water meter is fed through its building's bulk meter, unlinks it and links it again from
// the meter's page (a meter of another utility is refused on the page), sees on the bulk
// meter's page that the flats pay for what it measures and its readings at no charge (also as a
// file), and reads each bulk meter against its sub-meters in the loss report and its CSV.

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

test('a manager links a flat to its bulk meter and reads the losses', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  const siteUrl = page.url();

  await page.locator('a.chip', { hasText: 'WA-A101' }).first().click();
  await page.waitForURL(/\/meters\/\d+$/);
  await hydrated(page);
  await page.locator('dd.master-meter', { hasText: 'WA-ABULK' }).waitFor();
  const form = page.locator('section.master-link');
  await form.getByRole('button', { name: 'Unlink' }).click();
  await page.locator('dd.master-meter').waitFor({ state: 'detached' });

  // Gas cannot feed water: refused, and nothing is linked.
  await form.locator('input[name="master"]').fill('GA-A101');
  await form.getByRole('button', { name: 'Link', exact: true }).click();
  await form.locator('.form-error', { hasText: 'measures water' }).waitFor();
  assert.equal(await page.locator('dd.master-meter').count(), 0);

  await form.locator('input[name="master"]').fill('WA-ABULK');
  await form.getByRole('button', { name: 'Link', exact: true }).click();
  await page.locator('dd.master-meter', { hasText: 'WA-ABULK' }).waitFor();
  await screenshot(page, 'manager-master-meter');

  // The bulk meter's page says who pays for what it measures: the flats it feeds, not it.
  await page.locator('dd.master-meter a').click();
  await page.waitForURL(/\/meters\/\d+$/);
  assert.equal(
    (await page.locator('dd.sub-meters').textContent()).trim(),
    '40 meters, charged for what passes through (loss report)',
  );
  // Its readings are kept, each at no charge, with the reason beside it. The tests' demo reads
  // its meters once an hour, so the meter is read now: the simulator answers with a reading,
  // which the page shows at its next refresh.
  await hydrated(page);
  await page.getByRole('button', { name: 'Read now' }).click();
  await page.locator('section.readings tr.reading[data-status="rated"]').first().waitFor({ timeout: 15_000 });
  const newest = page.locator('section.readings tr.reading').first();
  assert.equal(await newest.getAttribute('data-status'), 'rated');
  assert.equal((await newest.locator('td.charged').textContent()).trim(), '0.00 KES');
  assert.equal((await newest.locator('td.note').textContent()).trim(), 'bulk meter: charged on its sub-meters');
  // And all of this month's as a file, exact and with the same reason.
  const [readings] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('form.readings-download').getByRole('button', { name: 'Download as CSV' }).click(),
  ]);
  assert.match(readings.suggestedFilename(), /^readings-WA-ABULK-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.csv$/);
  const readingLines = (await readFile(await readings.path(), 'utf8')).trim().split('\n');
  assert.equal(readingLines[0], 'meter,taken (site time),taken (UTC),received (UTC),register,status,used,measure,price before tax,tax,currency,note');
  assert.match(readingLines.at(-1), /^WA-ABULK,.*,rated,[\d.]+,m3,0,0,KES,bulk meter: charged on its sub-meters$/);

  await page.goto(siteUrl);
  await page.getByRole('link', { name: 'Losses' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/losses$/);
  await page.getByRole('heading', { name: 'Losses · Riverside Campus' }).waitFor();
  const masters = await page.locator('tr.loss-line').evaluateAll((rows) => rows.map((row) => row.dataset.master));
  assert.deepEqual(masters, ['WA-ABULK', 'WA-BBULK']);
  const bulk = page.locator('tr.loss-line[data-master="WA-ABULK"]');
  assert.equal(await bulk.locator('td[data-subs]').textContent(), '40', 'every flat of Block A again');
  const share = await bulk.locator('td[data-share]').getAttribute('data-share');
  await screenshot(page, 'manager-losses');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^losses-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'building,unit,master meter,utility,measure,master used,sub-meters,sub-meters used,loss,loss %,finding,from,to');
  const line = csv.find((row) => row.startsWith('Block A,A-plant,WA-ABULK,water,m3,'));
  assert.ok(line, csv.join('\n'));
  const fields = line.split(',');
  assert.equal(fields[6], '40');
  // The file's share is the page's.
  assert.equal(fields[9], share);

  // The refused link is the one error the console saw.
  assertNoProblems(problems.filter((p) => !/status of 422/.test(p)));
  await context.close();
});
