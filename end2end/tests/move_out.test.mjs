// Move-outs in a real headless Chromium: at the end of a term a manager chooses a floor's
// residents, previews what each leaves (refund or debt), confirms, and sees them gone.

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

/** Minor units from text such as "1,234.50" or "-7.25". */
const minor = (text) => Math.round(Number(text.trim().replaceAll(',', '')) * 100);

test('a manager moves a floor out in one batch, with the settlement previewed first', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Residents and move-outs' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/residents$/);
  await hydrated(page);
  const everyone = await page.locator('tr.resident-row').count();
  assert.ok(everyone > 60, `the site's residents are listed (${everyone})`);

  // The third floor of Block B, chosen in one click.
  await page.fill('input[name="resident-filter"]', 'B-30');
  const floor = await page.locator('tr.resident-row:visible').count();
  assert.ok(floor >= 2 && floor <= 9, `a floor's residents (${floor})`);
  await page.locator('input.select-shown').check();
  await page.getByText(`Showing ${floor} of ${everyone} · ${floor} chosen`).waitFor();
  const ledgerBefore = await page.locator('tr.resident-row:visible td.num').allTextContents();

  await page.getByRole('button', { name: `Preview the move-out of ${floor} residents` }).click();
  const preview = page.locator('table.batch-table[data-done="false"]');
  await preview.waitFor();
  assert.equal(await preview.locator('tr.batch-line').count(), floor);
  assert.equal(await preview.locator('tr.batch-line.refused').count(), 0);
  const refunds = (await preview.locator('td.refund').allTextContents()).map(minor);
  const debts = (await preview.locator('td.debt').allTextContents()).map(minor);
  const sum = (list) => list.reduce((a, b) => a + b, 0);
  assert.equal(minor(await preview.locator('.refund-total').textContent()), sum(refunds), 'the refund total adds up');
  assert.equal(minor(await preview.locator('.debt-total').textContent()), sum(debts), 'the debt total adds up');
  // Nothing has changed yet: everyone is still listed with the same balances.
  assert.equal(await page.locator('tr.resident-row').count(), everyone);
  assert.deepEqual(await page.locator('tr.resident-row:visible td.num').allTextContents(), ledgerBefore);
  await screenshot(page, 'manager-move-out-preview');

  await page.getByRole('button', { name: `Move out ${floor} residents now` }).click();
  await page.locator('.moved-out').waitFor();
  assert.match(await page.textContent('.moved-out'), new RegExp(`Moved out ${floor} residents\\.`));
  const done = page.locator('table.batch-table[data-done="true"]');
  assert.equal(await done.locator('tr.batch-line').count(), floor);
  assert.equal(minor(await done.locator('.refund-total').textContent()), sum(refunds), 'settled as previewed');
  // The list is read again: the floor is empty, everyone else still there.
  await page.getByText(`Showing 0 of ${everyone - floor} · 0 chosen`).waitFor();
  assert.equal(await page.locator('tr.resident-row').count(), everyone - floor);
  await screenshot(page, 'manager-move-out-done');

  // Four eyes: the refunds this manager settled are for somebody else to pay.
  const owed = refunds.filter((refund) => refund > 0).length;
  await page.goto(page.url().replace(/\/residents$/, '/payments'));
  await hydrated(page);
  if (owed > 0) await page.locator('.payouts .settled-by-you').first().waitFor();
  assert.equal(await page.locator('.payouts tr[data-status="owed"] .settled-by-you').count(), owed);
  assertNoProblems(problems);
  await context.close();
});

test('a resident who opens the move-out page is refused', async () => {
  const { context, page } = await openPage(browser);
  await signIn(page, 'a101@demo.example');
  await page.waitForURL(`${BASE}/`);
  await page.goto(`${BASE}/manage/sites/1/residents`);
  await page.locator('.notice-denied').waitFor();
  assert.equal(await page.locator('tr.resident-row').count(), 0);
  await context.close();
});
