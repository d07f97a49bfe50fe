// A manager's notice in a real headless Chromium: sent from the accounts table to the homes a
// search finds, and read by one of those residents on their notices page.

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

test('a manager sends a notice to the homes a search finds and a resident there reads it', async () => {
  const manager = await openPage(browser);
  let page = manager.page;
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.click('a.accounts-link');
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  // Block B's top floor: nine homes (B-410 is vacant), an account per utility each.
  await page.fill('input[name="words"]', 'B-4');
  await page.click('button:has-text("Search")');
  await page.waitForURL(/words=B-4/);
  const matching = Number(await page.getAttribute('.totals', 'data-matching'));
  assert.equal(matching, 27);

  await hydrated(page);
  await page.click('details.batch-notice summary');
  assert.match(await page.textContent('details.batch-notice summary'), /the 27 accounts found/);
  await page.fill('details.batch-notice input[name="heading"]', 'Water off on Tuesday');
  await page.fill('details.batch-notice textarea[name="text"]', 'From 9 to 12, while the new pump is fitted.\nSorry for the trouble.');
  await page.click('details.batch-notice button:has-text("Send the notice")');
  const sent = page.locator('details.batch-notice .notice');
  await sent.waitFor();
  assert.equal(await sent.getAttribute('data-homes'), '9');
  assert.equal(await sent.textContent(), 'Sent to 9 homes.');
  await screenshot(page, 'manager-site-notice');
  assertNoProblems(manager.problems);
  await manager.context.close();

  const resident = await openPage(browser);
  page = resident.page;
  await signIn(page, 'b401@demo.example');
  await page.goto(`${BASE}/notifications`);
  const line = page.locator('li.notice-site_notice');
  await line.waitFor();
  assert.match(await line.locator('strong').textContent(), /^Water off on Tuesday$/);
  assert.match(await line.locator('p').textContent(), /while the new pump is fitted\.\nSorry for the trouble\./);
  await screenshot(page, 'resident-site-notice');
  assertNoProblems(resident.problems);
  await resident.context.close();
});
