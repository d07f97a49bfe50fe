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

test('a manager adds a building and a shop in it, and corrects a meter\'s record', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await hydrated(page);
  // Counted first: the sheet test may have added a building and units before this one.
  const units = Number(await page.textContent('[data-count="units"]'));
  const buildings = Number(await page.textContent('[data-count="buildings"]'));

  const places = page.locator('section.add-place');
  await places.locator('.add-building input[name="name"]').fill('Block C');
  await places.getByRole('button', { name: 'Add the building' }).click();
  await page.getByRole('heading', { name: 'Block C', exact: true }).waitFor();
  assert.equal(await page.textContent('[data-count="buildings"]'), String(buildings + 1));

  await places.locator('.add-unit select[name="building"]').selectOption({ label: 'Block C' });
  await places.locator('.add-unit input[name="name"]').fill('C-001');
  await places.locator('.add-unit select[name="kind"]').selectOption('shop');
  await places.getByRole('button', { name: 'Add the unit' }).click();
  await page.locator('tr.unit-row', { hasText: 'C-001' }).waitFor();
  assert.equal(await page.textContent('[data-count="units"]'), String(units + 1));
  // The same unit again is a clash, said under its form; nothing more is added.
  await places.locator('.add-unit select[name="building"]').selectOption({ label: 'Block C' });
  await places.locator('.add-unit input[name="name"]').fill('C-001');
  await places.getByRole('button', { name: 'Add the unit' }).click();
  await places.locator('.form-error', { hasText: 'Block C has a unit called C-001 already' }).waitFor();
  assert.equal(await page.textContent('[data-count="units"]'), String(units + 1));
  await screenshot(page, 'manager-add-place');

  // A meter's serial typed wrong and its multiplier, corrected on its page.
  await page.locator('a.chip', { hasText: 'GA-B110' }).first().click();
  await page.waitForURL(/\/meters\/\d+$/);
  await hydrated(page);
  const record = page.locator('section.meter-correction');
  await record.locator('input[name="serial"]').fill('GA-B110X');
  await record.locator('input[name="multiplier"]').fill('2');
  await record.getByRole('button', { name: 'Correct' }).click();
  await page.locator('h1', { hasText: 'GA-B110X' }).waitFor();
  await page.locator('.meter-status dd', { hasText: /^2$/ }).waitFor();
  // Another meter's serial is refused.
  await record.locator('input[name="serial"]').fill('GA-B109');
  await record.getByRole('button', { name: 'Correct' }).click();
  await record.locator('.form-error', { hasText: 'serial GA-B109 already' }).waitFor();
  assert.match(await page.locator('h1').textContent(), /GA-B110X/);
  // The clash and the refused serial are answered 409 and 422 on purpose.
  assertNoProblems(problems.filter((problem) => !/status of (409|422)/.test(problem)));
  await context.close();
});
