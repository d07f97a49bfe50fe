// Named to run after sign_in.test.mjs, which counts the demo's units: this test adds two.
// The site sheet in a real headless Chromium: a manager chooses a CSV file of new units,
// meters and residents, the check lists each bad line with its reason and offers no import,
// the mended sheet imports whole, and the site's download holds the new unit.

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

const HEADER = 'building,unit,kind,utility,serial,multiplier,first_register,transport,resident_email,resident_name,resident_phone';
const EXPORTED = `${HEADER},tariff_plan,master_serial`;

test('a manager imports a sheet with errors, mends it, imports it whole and downloads the site', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Units, meters and residents (CSV)' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/sheet$/);
  await hydrated(page);
  const before = await page.textContent('.sheet-summary');

  // A file with two bad lines: the check names both, and nothing can be imported.
  const bad = [
    HEADER,
    'Block E2E,E1,flat,electricity,E2E-EL-1,1,40,simulator,e2e.sheet@example.org,Esther Sheet,',
    'Block E2E,E2,flat,steam,E2E-ST-2,1,0,simulator,,,',
    'Block E2E,E1,flat,water,E2E-WA-1,1,-3,simulator,,,',
  ].join('\n');
  await page.setInputFiles('input.sheet-file', { name: 'units.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  // Read in the browser into the text box, where it could be edited before the check.
  await page.waitForFunction(() => document.querySelector('textarea.sheet-text').value.includes('E2E-EL-1'));
  await page.getByRole('button', { name: 'Check the sheet' }).click();
  await page.locator('.sheet-refused', { hasText: '2 lines of 3 lines cannot be imported' }).waitFor();
  const rows = await page.locator('table.sheet-problems tbody tr').allTextContents();
  assert.equal(rows.length, 2);
  assert.match(rows[0], /^3.*steam/);
  assert.match(rows[1], /^4.*first register/);
  assert.equal(await page.locator('button.sheet-commit').count(), 0, 'no import while a line is bad');
  await screenshot(page, 'manager-sheet-problems');

  // Mended in the page: the check clears, then the import adds everything at once.
  const good = [
    HEADER,
    'Block E2E,E1,flat,electricity,E2E-EL-1,1,40,simulator,e2e.sheet@example.org,Esther Sheet,',
    'Block E2E,E2,shop,water,E2E-WA-2,1,0,simulator,,,',
    'Block E2E,E1,flat,water,E2E-WA-1,1,3,simulator,e2e.sheet@example.org,Esther Sheet,',
  ].join('\n');
  await page.fill('textarea.sheet-text', good);
  assert.equal(await page.locator('.sheet-refused').count(), 0, 'the old check went with the old text');
  await page.getByRole('button', { name: 'Check the sheet' }).click();
  await page.locator('.sheet-ready', {
    hasText: '3 lines read, all good: importing adds 1 new building, 2 new units, 3 new meters and 1 new resident.',
  }).waitFor();
  await page.getByRole('button', { name: 'Import 3 lines' }).click();
  await page.locator('.sheet-imported', { hasText: 'Imported 3 lines' }).waitFor();
  await screenshot(page, 'manager-sheet-imported');

  // Read again, the page counts them; the download holds the new unit and its resident.
  await page.reload();
  assert.notEqual(await page.textContent('.sheet-summary'), before);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the site as CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^site-\d+\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], EXPORTED);
  assert.ok(
    csv.some((line) => line.startsWith('Block E2E,E1,flat,electricity,E2E-EL-1,1,40,simulator,e2e.sheet@example.org,Esther Sheet')),
    csv.join('\n'),
  );
  assertNoProblems(problems);
  await context.close();
});
