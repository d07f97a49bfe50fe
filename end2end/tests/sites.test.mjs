// Sites in a real headless Chromium: an admin adds a site from the console, opens its
// settings and changes its supply rules; a manager of another site does not see it until
// the admin gives them a role there, and not after it is taken away. A manager adds a
// colleague from the site page.

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

test('an admin adds a site and sets its supply rules', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await hydrated(page);
  await page.locator('details.new-site summary').click();
  await page.fill('.new-site input[name="name"]', 'Lakeside Shops');
  await page.fill('.new-site input[name="time_zone"]', 'Africa/Nairobi');
  await page.fill('.new-site input[name="currency"]', 'kes');
  await page.getByRole('button', { name: 'Create the site' }).click();
  const created = page.locator('.site-created');
  await created.waitFor();
  await created.getByRole('link', { name: 'Set its supply rules' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/settings$/);
  await hydrated(page);
  await page.getByRole('heading', { name: 'Settings · Lakeside Shops' }).waitFor();
  assert.match(await page.textContent('p.where'), /Clock: Africa\/Nairobi · currency: KES/);

  // A bad hour is named and nothing is saved; mended, the rules are kept and shown again.
  await page.fill('input[name="rules[emergency_credit]"]', '150');
  await page.fill('input[name="rules[friendly_to]"]', '25');
  await page.getByRole('button', { name: 'Save the settings' }).click();
  await page.getByText(/"25" is not an hour from 0 to 23/).waitFor();
  await page.fill('input[name="rules[friendly_to]"]', '7');
  await page.getByRole('button', { name: 'Save the settings' }).click();
  await page.locator('.settings-saved', { hasText: 'Saved.' }).waitFor();
  await page.reload();
  await hydrated(page);
  assert.equal(await page.inputValue('input[name="rules[emergency_credit]"]'), '150.00');
  assert.equal(await page.inputValue('input[name="rules[friendly_to]"]'), '7');
  await screenshot(page, 'admin-site-settings');
  // The refused hour's 422 is the browser's only complaint.
  assertNoProblems(problems.filter((problem) => !/status of 422/.test(problem)));
  await context.close();

  // The demo's manager holds no role there: the new site is not on their list.
  const manager = await openPage(browser);
  await signIn(manager.page, 'manager@demo.example');
  await manager.page.waitForURL(`${BASE}/manage`);
  await manager.page.getByRole('heading', { name: 'Riverside Campus' }).waitFor();
  assert.equal(await manager.page.getByRole('heading', { name: 'Lakeside Shops' }).count(), 0);
  await manager.context.close();
});

test('an admin gives the demo manager a second site, then takes it away again', async () => {
  const admin = await openPage(browser);
  await signIn(admin.page, 'admin@demo.example');
  await admin.page.waitForURL(`${BASE}/manage`);
  await admin.page.locator('a.card.site', { hasText: 'Lakeside Shops' }).click();
  await admin.page.waitForURL(/\/manage\/sites\/\d+$/);
  await hydrated(admin.page);
  await admin.page.locator('a.staff-link').click();
  await admin.page.waitForURL(/\/manage\/sites\/\d+\/staff$/);
  await hydrated(admin.page);
  await admin.page.getByRole('heading', { name: 'Staff and roles · Lakeside Shops' }).waitFor();
  const line = (email) => admin.page.locator(`tr.staff-line[data-email="${email}"]`);
  assert.match(await line('admin@demo.example').textContent(), /admin \(whole organisation\)/);
  assert.equal(await line('manager@demo.example').count(), 0);

  // A stranger's address is named and nothing is given; the demo's manager is.
  await admin.page.fill('.grant-form input[name="email"]', 'stranger@example.org');
  await admin.page.selectOption('.grant-form select[name="role"]', 'manager');
  await admin.page.getByRole('button', { name: 'Give the role' }).click();
  await admin.page.getByText(/Nobody in your organisation signs in with that e-mail address/).waitFor();
  await admin.page.fill('.grant-form input[name="email"]', 'manager@demo.example');
  await admin.page.getByRole('button', { name: 'Give the role' }).click();
  await admin.page.getByText('Role given.').waitFor();
  // The form is blank again for the next colleague.
  await admin.page.waitForFunction(() => document.querySelector('.grant-form input[name="email"]').value === '');
  await line('manager@demo.example').waitFor();

  // Their list holds both sites now, without signing in again.
  const manager = await openPage(browser);
  await signIn(manager.page, 'manager@demo.example');
  await manager.page.waitForURL(`${BASE}/manage`);
  await manager.page.getByRole('heading', { name: 'Lakeside Shops' }).waitFor();
  await manager.page.getByRole('heading', { name: 'Riverside Campus' }).waitFor();

  await line('manager@demo.example').getByRole('button', { name: 'Take the manager role away from' }).click();
  await admin.page.getByText('Role taken away.').waitFor();
  // Its answer alone: the earlier "Role given." is gone.
  await admin.page.getByText('Role given.').waitFor({ state: 'detached' });
  await line('manager@demo.example').waitFor({ state: 'detached' });
  await manager.page.reload();
  await manager.page.getByRole('heading', { name: 'Riverside Campus' }).waitFor();
  assert.equal(await manager.page.getByRole('heading', { name: 'Lakeside Shops' }).count(), 0);
  await screenshot(admin.page, 'site-staff');
  // The stranger's 422 is the browser's only complaint.
  assertNoProblems(admin.problems.filter((problem) => !/status of 422/.test(problem)));
  assertNoProblems(manager.problems);
  await admin.context.close();
  await manager.context.close();
});

test('a manager adds a colleague from the site page, and the form is blank for the next', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await hydrated(page);
  // A fresh address each run, so that the test can run again against the same demo.
  const email = `operator-${Date.now()}@demo.example`;
  const form = page.locator('details.add-person');
  await form.locator('summary').click();
  await form.locator('input[name="display_name"]').fill('Olu Operator');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('select[name="role"]').selectOption('operator');
  await form.getByRole('button', { name: 'Create account' }).click();
  const created = form.locator('.notice.created');
  await created.waitFor();
  assert.match(await created.textContent(), new RegExp(`Account created for ${email.replace(/\./g, '\\.')}`));
  // The form is blank again, its choices back to their first, and the password stays shown.
  await page.waitForFunction(() => {
    const form = document.querySelector('details.add-person form');
    return form.display_name.value === '' && form.email.value === '' && form.role.selectedIndex === 0;
  });
  assert.ok((await created.locator('code').textContent()).length >= 12);
  // The same person again is refused, and the form keeps what was typed to mend it.
  await form.locator('input[name="display_name"]').fill('Olu Operator');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('select[name="role"]').selectOption('operator');
  await form.getByRole('button', { name: 'Create account' }).click();
  await form.getByText('An account with that e-mail address or phone number already exists.').waitFor();
  assert.equal(await form.locator('input[name="email"]').inputValue(), email);
  // The one refusal is the browser's only complaint.
  assertNoProblems(problems.filter((problem) => !/status of 409/.test(problem)));
  await context.close();
});
