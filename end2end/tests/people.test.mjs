// The organisation's people for its admins, in a real headless Chromium: a leaver's sign-in
// switched off ends the session they have open and stops them signing in, and switched on
// again gives them back what they had; a resident is switched off by address.

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

test('an admin switches a leaver\'s sign-in off, which ends their open session, and on again', async () => {
  const manager = await openPage(browser);
  await signIn(manager.page, 'manager@demo.example');
  await manager.page.waitForURL(`${BASE}/manage`);

  const admin = await openPage(browser);
  const line = (email) => admin.page.locator(`tr.person-line[data-email="${email}"]`);
  // Whatever happens below, the demo's manager and resident are left able to sign in for the
  // other test files.
  const switchOn = (email) =>
    admin.page.request.post(`${BASE}/api/set_person_active`, {
      form: { email, active: 'true' },
      headers: { Origin: BASE },
    });
  try {
    await signIn(admin.page, 'admin@demo.example');
    await admin.page.waitForURL(`${BASE}/manage`);
    await admin.page.getByRole('link', { name: 'People and sign-ins' }).click();
    await admin.page.waitForURL(`${BASE}/manage/people`);
    await hydrated(admin.page);
    await admin.page.getByRole('heading', { name: 'People and sign-ins' }).waitFor();
    assert.match(await line('manager@demo.example').textContent(), /manager · Riverside Campus/);
    assert.equal(await line('manager@demo.example').getAttribute('data-active'), 'true');
    // Nobody is offered their own switch.
    assert.equal(await line('admin@demo.example').getByRole('button').count(), 0);

    await line('manager@demo.example').getByRole('button', { name: /^Switch off the sign-in of/ }).click();
    await admin.page.getByText('Done.').waitFor();
    await admin.page.locator('tr.person-line[data-email="manager@demo.example"][data-active="false"]').waitFor();
    assert.match(await line('manager@demo.example').locator('.sign-in-state').textContent(), /switched off/);
    await screenshot(admin.page, 'people');

    // The manager's open session is over at their next click, and signing in is refused.
    await manager.page.reload();
    await manager.page.waitForURL(`${BASE}/sign-in`);
    await signIn(manager.page, 'manager@demo.example');
    await manager.page.locator('.form-error').waitFor();
    assert.match(await manager.page.locator('.form-error').textContent(), /do not match an account/);

    // A resident is not listed until switched off by address.
    assert.equal(await line('a308@demo.example').count(), 0);
    await admin.page.fill('.switch-form input[name="email"]', 'a308@demo.example');
    await admin.page.getByRole('button', { name: 'Switch their sign-in off' }).click();
    await admin.page.locator('tr.person-line[data-email="a308@demo.example"][data-active="false"]').waitFor();
    // The form is blank again, so a second click does not send the same address twice.
    await admin.page.waitForFunction(() => document.querySelector('.switch-form input[name="email"]').value === '');

    // On again, from the list: both sign in as before, the manager to their site.
    await line('manager@demo.example').getByRole('button', { name: /^Switch on the sign-in of/ }).click();
    await admin.page.locator('tr.person-line[data-email="manager@demo.example"][data-active="true"]').waitFor();
    await line('a308@demo.example').getByRole('button', { name: /^Switch on the sign-in of/ }).click();
    await line('a308@demo.example').waitFor({ state: 'detached' });
    await signIn(manager.page, 'manager@demo.example');
    await manager.page.waitForURL(`${BASE}/manage`);
    await manager.page.getByRole('heading', { name: 'Riverside Campus' }).waitFor();

    assertNoProblems(admin.problems);
    // The refused sign-in answers 401 on purpose; Chromium logs it as a console error.
    assertNoProblems(manager.problems.filter((problem) => !problem.includes('401')));
  } finally {
    await switchOn('manager@demo.example');
    await switchOn('a308@demo.example');
    await admin.context.close();
    await manager.context.close();
  }
});

test('the people page is for admins only', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  assert.equal(await page.getByRole('link', { name: 'People and sign-ins' }).count(), 0);
  await page.goto(`${BASE}/manage/people`);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal(await page.locator('tr.person-line').count(), 0);
  assertNoProblems(problems.filter((problem) => !problem.includes('403')));
  await context.close();
});
