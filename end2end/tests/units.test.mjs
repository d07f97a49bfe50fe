// One unit on its own page, in a real headless Chromium: a manager finds it from the site,
// corrects its resident's name and renames it, and sees each change in place.

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

test('a manager opens a unit from the site, corrects its resident and renames it', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'A-309', exact: true }).click();
  await page.waitForURL(/\/manage\/units\/\d+$/);
  await hydrated(page);
  await page.getByRole('heading', { name: 'Block A · A-309' }).waitFor();
  assert.equal(await page.locator('.unit-meters a.chip').count(), 3, 'its three meters');
  assert.equal(await page.locator('.unit-accounts li').count(), 3, 'an account per utility');
  const resident = page.locator('article.resident');
  assert.match(await resident.locator('.contact').textContent(), /a309@demo\.example/);

  await resident.getByText('Correct their details').click();
  await resident.locator('input[name="display_name"]').fill('Juma Mwangi');
  await resident.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Juma Mwangi' }).waitFor();

  await page.locator('.unit-form input[name="name"]').fill('A-309 studio');
  await page.locator('.unit-form select[name="kind"]').selectOption('dorm_room');
  await page.locator('.unit-form').getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Block A · A-309 studio' }).waitFor();
  assert.equal(await page.locator('.unit-kind').getAttribute('data-kind'), 'dorm_room');
  await screenshot(page, 'manager-unit');

  // A name the building already has is refused on the page, and nothing changes.
  await page.locator('.unit-form input[name="name"]').fill('A-310');
  await page.locator('.unit-form').getByRole('button', { name: 'Save' }).click();
  await page.locator('.unit-form .form-error', { hasText: 'already has a unit called A-310' }).waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Block A · A-309 studio');

  // The site's table shows the new names.
  await page.locator('.breadcrumb a').click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  const row = page.locator('tr.unit-row', { hasText: 'A-309 studio' });
  assert.match(await row.textContent(), /Juma Mwangi/);
  // The clash is answered 409 on purpose; Chromium logs it as a console error.
  assertNoProblems(problems.filter((problem) => !/status of 409/.test(problem)));
  await context.close();
});
