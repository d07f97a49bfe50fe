// Closing the books in a real headless Chromium: a manager closes the site's books through
// the end of last month from the site page's "Closed periods", sees the close listed, and a
// second close of the same day changes nothing.

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

test('a manager closes the books through the end of last month', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Closed periods' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/periods$/);
  await hydrated(page);
  assert.match(await page.textContent('.closed-through'), /No period has been closed yet/);

  // The form offers the last day of last month.
  const through = await page.inputValue('.close-period-form input[name="through"]');
  // Today on the site's clock (Nairobi), then the day before its month began.
  const [year, month] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Africa/Nairobi' })
    .format(new Date()).split('-').map(Number);
  const endOfLastMonth = new Date(Date.UTC(year, month - 1, 0));
  assert.equal(through, endOfLastMonth.toISOString().slice(0, 10));
  await page.getByRole('button', { name: 'Close the books' }).click();
  await page.locator(`.closed-through[data-through="${through}"]`).waitFor();
  const line = page.locator(`tr.period-line[data-through="${through}"]`);
  await line.waitFor();
  assert.match(await line.textContent(), /Moses Manager/);
  await screenshot(page, 'manager-periods');

  // The same day again: nothing more.
  await page.fill('.close-period-form input[name="through"]', through);
  await page.getByRole('button', { name: 'Close the books' }).click();
  await page.locator('p.notice', { hasText: 'That day was closed already.' }).waitFor();
  assert.equal(await page.locator('tr.period-line').count(), 1);
  assertNoProblems(problems);
  await context.close();
});
