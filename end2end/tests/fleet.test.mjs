// The meter fleet in a real headless Chromium: a manager installs a meter that switches rates
// itself, is shown its broker password once, finds its time-of-use schedule queued, replaces
// it with one sent the schedule too and decommissions that with a final reading, reads a
// meter remotely and watches the command be acknowledged by the simulated meter without
// reloading; finds the demo's tampered meter in the meters' health, downloads those meters,
// notes and acknowledges its alarm; a resident sees their meter's supply, nothing to operate,
// and the readings taken since they moved in, also as a file.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BASE, assertNoProblems, hydrated, launch, openPage, screenshot, signIn, waitForServer } from './support.mjs';

let browser;

before(async () => {
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a manager installs a meter, then reads another and sees the acknowledgement live', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.getByRole('link', { name: 'Meters and alarms' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/fleet$/);
  await hydrated(page);
  await page.getByRole('heading', { name: /meters and alarms/ }).waitFor();

  await page.locator('.install-form summary').click();
  await page.fill('.install-form input[name="serial"]', 'EL-E2E-1');
  // Typed with the places its display has: the pages keep them.
  await page.fill('.install-form input[name="first_register"]', '5.000');
  await page.selectOption('.install-form select[name="transport"]', 'mqtt');
  // It switches rates itself, so the demo's time-of-use electricity schedule goes with it.
  await page.check('.install-form input[name="switches_rates"]');
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  const password = page.locator('.broker-password');
  await password.waitFor();
  assert.ok((await password.textContent()).length >= 20, 'the broker password is shown');
  await screenshot(page, 'manager-meter-installed');

  // Its own page shows it switches rates, with the schedule queued.
  await page.locator('.installed a').click();
  await page.waitForURL(/\/meters\/\d+$/);
  await hydrated(page);
  const schedule = page.locator('tr.command[data-command="tou_schedule"]');
  assert.equal(await schedule.count(), 1, 'its time-of-use schedule was queued at install');
  assert.match(await schedule.textContent(), /time-of-use schedule in force/);
  assert.match(await page.locator('.meter-status').textContent(), /switches time-of-use rates itself/);

  // Replace it like for like: the form starts ticked as the old meter was, and the new one
  // is sent the schedule as it goes in.
  await page.locator('.life-cycle summary').click();
  const replacing = page.locator('.life-cycle form:first-of-type');
  assert.ok(await replacing.locator('input[name="switches_rates"]').isChecked(), 'ticked as the old meter was');
  // The form says what the final reading counts as used before it is sent: a register below
  // the last one is refused, a digit too many shows as the use it would charge. The last
  // reading is written as the page writes it, every place kept.
  await replacing.locator('input[name="final_register"]').fill('4');
  assert.match(await replacing.locator('.final-use.backwards').textContent(), /Below the last reading \(5\.000\)/);
  await replacing.locator('input[name="final_register"]').fill('60005');
  assert.equal(await replacing.locator('.final-use').getAttribute('data-used'), '60,000');
  // Priced by the demo's electricity blocks (30 at 12.00, 70 at 20.00, then 25.00) and 16 % tax.
  assert.equal(await replacing.locator('.final-use').getAttribute('data-cost'), '1,739,141.60');
  await replacing.locator('input[name="final_register"]').fill('6');
  // And who would pay it: the occupant's account, opened for the meter when it went in.
  assert.match(await replacing.locator('.final-use').getAttribute('data-payer'), /^A\d{7}$/);
  assert.match(await replacing.locator('.final-use').textContent(), /That is 1 kWh used since the last reading \(5\.000\): about 13\.92 KES at today's prices, charged to account A\d{7}\./);
  await replacing.locator('input[name="serial"]').fill('EL-E2E-2');
  await replacing.locator('input[name="first_register"]').fill('0');
  await replacing.locator('select[name="transport"]').selectOption('mqtt');
  await page.getByRole('button', { name: 'Replace the meter' }).click();
  // The page asks for the old meter again: out of service, its forms gone. The new one's
  // broker password stays, through the refreshes that follow, until the manager moves on.
  await page.locator('[data-online="out of service"]').waitFor();
  assert.equal(await page.locator('.replaced-by a').textContent(), 'EL-E2E-2', 'it names its replacement');
  await page.waitForTimeout(2_500);
  assert.ok(await page.locator('.installed .broker-password').isVisible(), 'the password is still shown');
  const replaced = page.url();
  await page.locator('.installed a').click();
  await page.waitForURL((url) => url.href !== replaced && /\/meters\/\d+$/.test(url.pathname));
  await hydrated(page);
  await page.getByRole('heading', { name: /EL-E2E-2/ }).waitFor();
  assert.equal(await page.locator('.replaces a').textContent(), 'EL-E2E-1', 'it names the meter it replaced');
  assert.equal(await schedule.count(), 1, 'the replacement\'s schedule was queued as it went in');

  // Take the replacement out of service again, with a final reading.
  await page.locator('.life-cycle summary').click();
  await page.fill('.life-cycle form:last-of-type input[name="final_register"]', '1');
  await page.getByRole('button', { name: 'Take out of service' }).click();
  await page.locator('[data-online="out of service"]').waitFor();
  await page.locator('.breadcrumb a').click();
  await page.waitForURL(/\/manage\/sites\/\d+\/fleet$/);

  // A demo meter, answered by the simulator.
  await page.locator('.breadcrumb a').click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  await page.locator('a.chip').first().click();
  await page.waitForURL(/\/meters\/\d+$/);
  await hydrated(page);
  await page.getByRole('heading', { name: /meter EL-/ }).waitFor();
  await page.getByRole('button', { name: 'Read now' }).click();
  await page.locator('tr.command[data-command="read"][data-status="acknowledged"]').waitFor({ timeout: 15_000 });
  await screenshot(page, 'manager-meter-read');
  assertNoProblems(problems);
  await context.close();
});

test('a manager finds the tampered meter in the meters\' health, then notes and acknowledges its alarm', async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, 'manager@demo.example');
  await page.waitForURL(`${BASE}/manage`);
  await page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+$/);
  // The site's own count, whatever the tests before this one installed and removed.
  const inService = Number(await page.textContent('[data-count="meters"]'));
  await page.getByRole('link', { name: 'Meter health' }).click();
  await page.waitForURL(/\/manage\/sites\/\d+\/meters$/);
  const summary = page.locator('.health-summary');
  const meters = Number(await summary.getAttribute('data-meters'));
  assert.equal(meters, inService, 'every meter in service is counted (with the two bulk water meters)');
  assert.ok(meters >= 242, `the demo's 242 meters at least, not ${meters}`);
  assert.equal(await page.locator('tr.meter-row').count(), 100, 'a page holds a hundred meters');
  const alarmed = Number(await page.locator('tr[data-problem="alarms"] td[data-count]').getAttribute('data-count'));
  assert.ok(alarmed >= 1, 'the demo\'s tampered meter has an open alarm');

  await page.getByRole('link', { name: 'Open alarms' }).click();
  await page.waitForURL(/\/meters\?problem=alarms$/);
  const tampered = page.locator('tr.meter-row[data-serial="EL-B207"]');
  assert.match(await tampered.getAttribute('data-problems'), /\balarms\b/);
  assert.match(await tampered.textContent(), /Block B · B-207/);
  assert.equal(await page.locator('tr.meter-row').count(), alarmed);
  await screenshot(page, 'manager-meter-health');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download these meters (CSV)' }).click(),
  ]);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.match(csv[0], /^meter_id,building,unit,utility,serial,/);
  assert.equal(csv.length, alarmed + 1, 'the file holds the meters found');
  assert.ok(csv.some((line) => line.includes(',B-207,electricity,EL-B207,') && /alarms/.test(line)));

  await page.locator('.breadcrumb .fleet-link').click();
  await page.waitForURL(/\/manage\/sites\/\d+\/fleet$/);
  await hydrated(page);
  const alarm = page.locator('li.alarm[data-kind="tamper"]', { hasText: 'EL-B207' });
  await alarm.locator('input[name="note"]').fill('Cover seal broken, photo taken');
  // Typed, then the eyes go elsewhere: the console's refresh (every 5 s) keeps the text.
  await page.locator('h1').click();
  await page.waitForTimeout(6_000);
  assert.equal(await alarm.locator('input[name="note"]').inputValue(), 'Cover seal broken, photo taken');
  await alarm.getByRole('button', { name: 'Add note' }).click();
  await alarm.locator('.alarm-note', { hasText: 'Cover seal broken, photo taken' }).waitFor();
  await alarm.locator('input[name="note"]').fill('Electrician on the way');
  await alarm.getByRole('button', { name: 'Acknowledge' }).click();
  await page.locator('li.alarm.status-acknowledged[data-kind="tamper"]', { hasText: 'EL-B207' }).waitFor();
  const notes = await page.locator('li.alarm[data-kind="tamper"] .alarm-note').allTextContents();
  assert.equal(notes.length, 2, `${notes}`);
  assert.match(notes[0], /Cover seal broken, photo taken/);
  assert.match(notes[1], /\(acknowledged\): Electrician on the way/);
  await screenshot(page, 'manager-alarm-notes');
  assertNoProblems(problems);
  await context.close();
});

test('a resident sees their meter, its supply and its readings, with nothing to operate', async () => {
  const { context, page, problems } = await openPage(browser, { width: 360, height: 740 });
  await signIn(page, 'a102@demo.example');
  await page.waitForURL(`${BASE}/`);
  const serial = (await page.locator('.unit a.serial').first().textContent()).trim();
  await page.locator('.unit a.serial').first().click();
  await page.waitForURL(/\/meters\/\d+$/);
  await hydrated(page);
  await page.locator('.meter-status .relay').waitFor();
  assert.match(await page.textContent('.meter-status'), /Supply:/);
  assert.equal(await page.locator('.operations').count(), 0, 'residents operate nothing');
  // The demo reads every meter as it starts, after its residents moved in: at least that first
  // reading is theirs to see, in their words.
  const statuses = page.locator('section.readings tr.reading td.status');
  await statuses.first().waitFor();
  for (const status of await statuses.allTextContents()) {
    assert.match(status, /^(first reading|priced|late|rejected)$/);
  }
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('form.readings-download').getByRole('button', { name: 'Download as CSV' }).click(),
  ]);
  assert.match(file.suggestedFilename(), new RegExp(`^readings-${serial}-\\d{4}-\\d{2}-01-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  const lines = (await readFile(await file.path(), 'utf8')).trim().split('\n');
  assert.ok(lines.length >= 2, `${lines}`);
  assert.ok(lines.slice(1).every((line) => line.startsWith(`${serial},`)), `${lines}`);
  await screenshot(page, 'resident-meter-360px');
  assertNoProblems(problems);
  await context.close();
});

test('a resident reports a fault and the manager closes it from the fleet console', async () => {
  const resident = await openPage(browser, { width: 360, height: 740 });
  await signIn(resident.page, 'a104@demo.example');
  await resident.page.waitForURL(`${BASE}/`);
  await resident.page.locator('article.account h2 a', { hasText: 'Water' }).click();
  await resident.page.waitForURL(/\/accounts\/\d+$/);
  await hydrated(resident.page);
  await resident.page.getByText('Report a fault').click();
  await resident.page.selectOption('select[name="kind"]', 'leak');
  await resident.page.fill('textarea[name="details"]', 'Water drips from the meter joint.');
  await resident.page.getByRole('button', { name: "Send to the site's managers" }).click();
  await resident.page.locator('.fault-sent').waitFor();
  const number = (await resident.page.textContent('.fault-sent')).match(/report #(\d+)/)[1];
  await resident.page.locator(`li.fault.open[data-fault="${number}"]`).waitFor();
  await screenshot(resident.page, 'resident-fault-360px');

  const manager = await openPage(browser);
  await signIn(manager.page, 'manager@demo.example');
  await manager.page.waitForURL(`${BASE}/manage`);
  await manager.page.getByRole('heading', { name: 'Riverside Campus' }).click();
  await manager.page.getByRole('link', { name: /Meters and alarms/ }).click();
  await manager.page.waitForURL(/\/manage\/sites\/\d+\/fleet$/);
  await hydrated(manager.page);
  const report = manager.page.locator(`li.fault[data-fault="${number}"]`);
  assert.match(await report.textContent(), /A leak \(water or gas\).*A-104.*Water drips from the meter joint\./s);
  await report.locator('input[name="note"]').fill('Joint resealed');
  await report.getByRole('button', { name: 'Close' }).click();
  await manager.page.waitForFunction((id) => !document.querySelector(`li.fault[data-fault="${id}"]`), number);

  await resident.page.reload();
  await hydrated(resident.page);
  assert.match(await resident.page.textContent(`li.fault[data-fault="${number}"] .fault-status`), /Closed .*: Joint resealed/);
  assertNoProblems(resident.problems);
  assertNoProblems(manager.problems);
  await resident.context.close();
  await manager.context.close();
});
