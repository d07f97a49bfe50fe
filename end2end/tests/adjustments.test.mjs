// Adjustments on four eyes in a real headless Chromium: a manager asks to credit every
// account a search of the accounts table finds; nothing moves until an admin approves it on
// the site's adjustments page, and then each account rises once.

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

/// The balance of each account the page shows, by account id, in minor units.
const balances = (page) =>
  page.locator('tr.account-row').evaluateAll((rows) =>
    Object.fromEntries(rows.map((tr) => [tr.dataset.account, Number(tr.querySelector('td[data-balance]').dataset.balance)])),
  );

test('a manager asks to credit every account a search finds and an admin approves it', async () => {
  const manager = await openPage(browser);
  let page = manager.page;
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  const site = page.url();
  await page.click('a.accounts-link');
  await page.getByRole('heading', { name: 'Accounts' }).waitFor();
  // Block A's second floor, gas only.
  await page.selectOption('select[name="utility"]', 'gas');
  await page.fill('input[name="words"]', 'A-20');
  await page.click('button:has-text("Search")');
  await page.waitForURL(/words=A-20/);
  const search = page.url();
  const matching = Number(await page.getAttribute('.totals', 'data-matching'));
  assert.ok(matching > 0 && matching < 20, `${matching} accounts found`);
  const before = await balances(page);
  assert.equal(Object.keys(before).length, matching);

  await hydrated(page);
  await page.click('details.batch-adjust summary');
  assert.match(await page.textContent('details.batch-adjust summary'), new RegExp(`Adjust the ${matching} accounts? found`));
  await page.fill('details.batch-adjust input[name="amount"]', '1');
  await page.fill('details.batch-adjust input[name="reason"]', 'Gas meters read late in March');
  await page.click('details.batch-adjust button:has-text("Ask for approval")');
  const notice = page.locator('details.batch-adjust .notice');
  await notice.waitFor();
  const request = await notice.getAttribute('data-request');
  assert.match(await notice.textContent(), /waits for a second person's approval/);

  // The form is blank again, and a second adjustment typed in the same page is asked for
  // on its own: a request of its own, not the first one's number again.
  const field = (name) => page.locator(`details.batch-adjust input[name="${name}"]`);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('details.batch-adjust input[name="amount"], details.batch-adjust input[name="reason"]')].every((input) => input.value === ''),
  );
  await field('amount').fill('2');
  await field('reason').fill('Typed in the same page, withdrawn below');
  await page.click('details.batch-adjust button:has-text("Ask for approval")');
  await page.waitForFunction(
    (first) => {
      const shown = document.querySelector('details.batch-adjust .notice')?.dataset.request;
      return shown && shown !== first;
    },
    request,
  );
  const second = await notice.getAttribute('data-request');

  // Asked, not posted; and the one who asked may only withdraw it.
  await page.goto(search);
  assert.deepEqual(await balances(page), before);
  await page.goto(`${site}/adjustments`);
  await hydrated(page);
  const other = page.locator(`article.adjustment-request[data-request="${second}"]`);
  await other.locator('button.withdraw-request').click();
  await page.locator(`.adjustments-decided article[data-request="${second}"]`).waitFor();
  const mine = page.locator(`article.adjustment-request[data-request="${request}"]`);
  await mine.waitFor();
  assert.equal(await mine.locator('button.approve-request').count(), 0);
  assert.equal(await mine.locator('button.withdraw-request').count(), 1);
  assert.equal(await mine.locator('.requested-accounts li').count(), matching);
  await screenshot(page, 'adjustment-waiting');
  assertNoProblems(manager.problems);
  await manager.context.close();

  const admin = await openPage(browser);
  page = admin.page;
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(/\/manage/);
  await page.goto(`${site}/adjustments`);
  await hydrated(page);
  const waiting = page.locator(`.adjustments-waiting article[data-request="${request}"]`);
  await waiting.waitFor();
  assert.match(await waiting.textContent(), /Asked by Moses Manager/);
  await waiting.locator('button.approve-request').click();
  const decided = page.locator(`.adjustments-decided article[data-request="${request}"]`);
  await decided.waitFor();
  assert.match(await decided.textContent(), /Approved and posted by Amina Admin/);
  assert.equal(await decided.locator('.requested-accounts li.posted').count(), matching);
  await screenshot(page, 'adjustment-approved');

  // Each account rose by 1.00 once.
  await page.goto(search);
  const after = await balances(page);
  for (const [account, balance] of Object.entries(before)) {
    assert.equal(after[account], balance + 100, `account ${account}`);
  }
  assertNoProblems(admin.problems);
  await admin.context.close();
});

test('a manager shares a common charge among the accounts found and an admin approves every share', async () => {
  const manager = await openPage(browser);
  let page = manager.page;
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  const site = page.url();
  // Block A's third floor, electricity: the stairwell's lights.
  await page.goto(`${site}/accounts?utility=electricity&words=A-30`);
  const matching = Number(await page.getAttribute('.totals', 'data-matching'));
  assert.ok(matching > 1 && matching < 20, `${matching} accounts found`);
  const search = page.url();
  const before = await balances(page);

  await hydrated(page);
  await page.click('details.batch-share summary');
  await page.fill('details.batch-share input[name="amount"]', '10.01');
  await page.fill('details.batch-share input[name="reason"]', 'Stairwell lights, March');
  await page.click('details.batch-share button:has-text("Share it and ask for approval")');
  const notice = page.locator('details.batch-share .notice');
  await notice.waitFor();
  const request = await notice.getAttribute('data-request');
  assert.match(await notice.textContent(), /shares 10\.01 KES equally across \d+ accounts/);
  const shares = await page.locator('details.batch-share table.shares td.num').allTextContents();
  assert.equal(shares.length, matching);
  const cents = shares.map((text) => Math.round(Number(text.replace(/[^\d.-]/g, '')) * 100));
  assert.equal(cents.reduce((a, b) => a + b, 0), -1001, shares.join(', '));
  await screenshot(page, 'common-charge-shared');
  assertNoProblems(manager.problems);
  await manager.context.close();

  const admin = await openPage(browser);
  page = admin.page;
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(/\/manage/);
  await page.goto(`${site}/adjustments`);
  await hydrated(page);
  const waiting = page.locator(`.adjustments-waiting article[data-request="${request}"]`);
  await waiting.waitFor();
  assert.match(await waiting.textContent(), /in all, shared equally across \d+ accounts/);
  assert.equal(await waiting.locator('.requested-accounts .share').count(), matching);
  await waiting.locator('button.approve-request').click();
  await page.locator(`.adjustments-decided article[data-request="${request}"]`).waitFor();

  // Together the accounts paid the bill, to the cent.
  await page.goto(search);
  const after = await balances(page);
  const paid = Object.entries(before).reduce((sum, [account, balance]) => sum + balance - after[account], 0);
  assert.equal(paid, 1001);
  assertNoProblems(admin.problems);
  await admin.context.close();
});
