// The integration API from an admin's desk in a real headless Chromium: an admin makes an API
// key (shown once), another system uses it over HTTP, the key shows as used, and revoking it
// shuts it out at once; a webhook is added with its signing secret shown once.

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

async function api(key, path) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return { status: response.status, body: await response.json() };
}

test('an admin makes a key, another system uses it, and revoking it shuts it out', async () => {
  const { context, page, problems } = await openPage(browser, { width: 1280, height: 900 });
  await signIn(page, 'admin@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('link', { name: 'Integrations' }).click();
  await page.waitForURL(`${BASE}/manage/integrations`);
  await hydrated(page);

  const name = `ERP ${Date.now()}`;
  await page.locator('details.new-api-key summary').click();
  await page.getByLabel('Name (the system that will use it)').fill(name);
  await page.locator('details.new-api-key input[name="read"]').check();
  await page.getByRole('button', { name: 'Make the key' }).click();
  const secret = (await page.locator('code.api-key-secret').textContent({ timeout: 10000 })).trim();
  assert.match(secret, /^ppk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  await screenshot(page, 'integrations-new-key');

  // Another system reads with it; a write is outside its scope.
  assert.equal((await api(null, '/sites')).status, 401);
  const sites = await api(secret, '/sites');
  assert.equal(sites.status, 200);
  assert.deepEqual(sites.body.data.map((site) => site.name), ['Riverside Campus']);
  const write = await fetch(`${BASE}/api/v1/buildings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'idempotency-key': 'e2e-1' },
    body: JSON.stringify({ site_id: sites.body.data[0].id, name: 'Nope' }),
  });
  assert.equal(write.status, 403);

  // Listed by name and prefix only, shown as used; the secret is not on the page again.
  await page.reload();
  const row = page.locator('tr.api-key', { hasText: name });
  await row.waitFor();
  assert.doesNotMatch(await page.content(), new RegExp(secret.slice(17)));
  const used = (await row.textContent()).match(/UTC/g) ?? [];
  assert.equal(used.length, 2, 'made, and last used, are both shown');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.waitForURL(/\/manage\/integrations\?revoked/);
  await page.locator('tr.api-key', { hasText: name }).locator('.revoked').waitFor();
  assert.equal((await api(secret, '/sites')).status, 401);

  // A webhook: its signing secret is shown once; a plain http address is refused.
  await hydrated(page);
  await page.locator('details.new-webhook summary').click();
  const hook = `https://erp.example.org/hooks/${Date.now()}`;
  await page.getByLabel('Address (https://…)').fill(hook);
  await page.locator('details.new-webhook input[name="alarm_raised"]').check();
  await page.getByRole('button', { name: 'Add' }).click();
  const signing = (await page.locator('code.webhook-secret').textContent({ timeout: 10000 })).trim();
  assert.match(signing, /^whsec_/);
  await page.reload();
  await page.locator('tr.webhook', { hasText: hook }).waitFor();
  await screenshot(page, 'integrations');
  assertNoProblems(problems);
  await context.close();
});

test('a manager cannot open integrations', async () => {
  const { context, page } = await openPage(browser, { width: 1280, height: 900 });
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  assert.equal(await page.getByRole('link', { name: 'Integrations' }).count(), 0);
  const response = await page.goto(`${BASE}/manage/integrations`);
  assert.equal(response.status(), 403);
  await context.close();
});
