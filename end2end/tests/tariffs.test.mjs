// The tariff editor in a real headless Chromium, on four eyes: a manager edits the water
// tariff and watches the sample bill priced in the browser, proposes it, and cannot approve
// it; an admin approves it and it is listed as the upcoming version.

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

const sampleTotal = (page, side) => page.textContent(`tr.sample-total td.${side}`);
// The sample bill groups thousands as the other money on the pages does: 36,500.00.
const grouped = (amount) => amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const amountOf = (text) => Number(text.replaceAll(',', ''));

test('a manager proposes a tariff priced in the browser and an admin publishes it', async () => {
  const manager = await openPage(browser);
  let page = manager.page;
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Tariffs' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/tariffs$/);
  const tariffsUrl = page.url();
  await hydrated(page);
  await page.locator('table.version-table[data-utility="water"] tr.version-line[data-status="in-force"]').waitFor();

  // The draft starts as the version in force: the two sample bills agree.
  await page.selectOption('select[name="editor-utility"]', 'water');
  await page.fill('input[name="sample-quantity"]', '200');
  assert.equal(await sampleTotal(page, 'after'), await sampleTotal(page, 'before'));
  const inForce = amountOf(await sampleTotal(page, 'before'));

  // A second block: until the first has an end, the draft says what is wrong and cannot be
  // proposed.
  await page.fill('input[name="tier-1-rate"]', '165');
  await page.getByRole('button', { name: 'Add a block' }).click();
  await page.locator('.draft-problem', { hasText: 'Tier 1' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Propose this version' }).isDisabled(), true);
  await page.fill('input[name="tier-1-up-to"]', '100');
  await page.fill('input[name="tier-2-rate"]', '200');
  // 100 units at 165 and 100 at 200, computed in the browser by the charging code.
  await page.locator('tr.sample-total td.after', { hasText: '36,500.00' }).waitFor();
  assert.equal(await page.locator('.draft-problem').count(), 0);
  const change = await page.textContent('.sample-change');
  assert.equal(change, `The draft changes this sample bill by +${grouped(36500 - inForce)}.`);

  const year = new Date().getUTCFullYear() + 1;
  await page.fill('input[name="editor-starts"]', `${year}-01-01T00:00`);
  await page.fill('input[name="note"]', 'Blocks for the new year');
  await screenshot(page, 'manager-tariff-editor');
  await page.getByRole('button', { name: 'Propose this version' }).click();
  await page.locator('p.proposed', { hasText: 'takes effect once a second person approves it' }).waitFor();
  const mine = page.locator('tr.proposal-line[data-state="pending"]', { hasText: 'Blocks for the new year' });
  await mine.waitFor();
  // Their own proposal offers a withdrawal, never an approval.
  assert.equal(await mine.getByRole('button', { name: 'Withdraw' }).count(), 1);
  assert.equal(await mine.getByRole('button', { name: 'Approve and publish' }).count(), 0);
  assertNoProblems(manager.problems);
  await manager.context.close();

  const admin = await openPage(browser);
  page = admin.page;
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.goto(tariffsUrl);
  await hydrated(page);
  const waiting = page.locator('tr.proposal-line[data-state="pending"]', { hasText: 'Blocks for the new year' });
  await waiting.getByRole('button', { name: 'Approve and publish' }).click();
  await page.locator('p.decided').waitFor();
  const upcoming = page.locator('table.version-table[data-utility="water"] tr.version-line[data-status="upcoming"]');
  await upcoming.waitFor();
  assert.match(await upcoming.textContent(), new RegExp(`${year}-01-01 00:00`));
  assert.match(await upcoming.textContent(), /up to 100 at 165\.00; above 100 at 200\.00/);
  assert.match(await upcoming.textContent(), /Amina Admin/);
  await page.locator('tr.proposal-line[data-state="published"]', { hasText: 'Blocks for the new year' }).waitFor();
  await screenshot(page, 'admin-tariff-published');
  assertNoProblems(admin.problems);
  await admin.context.close();
});

test('a manager starts a tariff plan, and once approved puts units on it from their page and from a search', async () => {
  const manager = await openPage(browser);
  let page = manager.page;
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  const siteUrl = page.url();
  await page.goto(`${siteUrl}/tariffs`);
  await hydrated(page);
  // Every unit starts on the standard plan.
  await page.locator('tr.plan-line[data-plan=""]').waitFor();
  assert.equal(await page.locator('tr.plan-line[data-plan="Shops"]').count(), 0);

  // A new name starts a plan; its draft starts from what its units pay now (the standard).
  await page.fill('input[name="editor-plan"]', 'Shops');
  await page.press('input[name="editor-plan"]', 'Tab');
  await page.selectOption('select[name="editor-utility"]', 'electricity');
  await page.getByRole('button', { name: 'Propose this version of the Shops plan' }).waitFor();
  assert.equal(await sampleTotal(page, 'after'), await sampleTotal(page, 'before'));
  await page.fill('input[name="tier-1-rate"]', '30');
  const year = new Date().getUTCFullYear() + 1;
  await page.fill('input[name="editor-starts"]', `${year}-02-01T00:00`);
  await page.fill('input[name="note"]', 'Shops pay a commercial rate');
  await page.getByRole('button', { name: 'Propose this version of the Shops plan' }).click();
  const mine = page.locator('tr.proposal-line[data-state="pending"]', { hasText: 'Shops pay a commercial rate' });
  await mine.waitFor();
  assert.match(await mine.textContent(), /Electricity · Shops/);
  assertNoProblems(manager.problems);
  await manager.context.close();

  const admin = await openPage(browser);
  page = admin.page;
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.goto(`${siteUrl}/tariffs`);
  await hydrated(page);
  await page.locator('tr.proposal-line[data-state="pending"]', { hasText: 'Shops pay a commercial rate' })
    .getByRole('button', { name: 'Approve and publish' }).click();
  await page.locator('table.version-table[data-plan="Shops"][data-utility="electricity"] tr.version-line[data-status="upcoming"]').waitFor();
  assert.equal(await page.textContent('tr.plan-line[data-plan="Shops"] td.units'), '0');

  // From a unit's page.
  await page.goto(siteUrl);
  await page.getByRole('link', { name: 'A-308', exact: true }).click();
  await page.waitForURL(/\/manage\/units\/\d+$/);
  await hydrated(page);
  assert.match(await page.textContent('.unit-plan'), /Charged by the Standard tariff plan/);
  await page.getByText('Change its tariff plan').click();
  await page.locator('.plan-form select[name="plan"]').selectOption('Shops');
  await page.locator('.plan-form').getByRole('button', { name: 'Put it on this plan' }).click();
  await page.locator('.unit-plan[data-plan="Shops"]', { hasText: 'Charged by the Shops tariff plan' }).waitFor();
  await screenshot(page, 'admin-unit-plan');

  // From a search: A-307's accounts, one unit.
  await page.goto(`${siteUrl}/accounts?words=A-307`);
  await hydrated(page);
  const batch = page.locator('details.batch-plan');
  await batch.locator('summary').click();
  await batch.locator('select[name="plan"]').selectOption('Shops');
  await batch.getByRole('button', { name: 'Put them on this plan' }).click();
  await batch.locator('p.notice[data-moved="1"]', { hasText: '1 unit put on the Shops plan; 0 already on it.' }).waitFor();

  await page.goto(`${siteUrl}/tariffs`);
  await hydrated(page);
  assert.equal(await page.textContent('tr.plan-line[data-plan="Shops"] td.units'), '2');
  assertNoProblems(admin.problems);
  await admin.context.close();
});
