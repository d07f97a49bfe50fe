// What each page makes a browser download of WebAssembly and JavaScript, with an empty cache:
// every .wasm and .js file the page requests until its islands are live, each compressed with
// gzip -9 on its own, summed (the style sheet, 4 KB, is not counted). Against a running server (the release
// build, `--split`, demo data):
//
//   node bundle.mjs            # PREPAID_E2E_URL picks another server than 127.0.0.1:3000
//
// The resident portal's budget is 300 KB a page; pages over it are marked.

import { gzipSync } from 'node:zlib';
import { BASE, hydrated, launch, signIn } from './tests/support.mjs';

const BUDGET_KB = 300;
const RESIDENT = 'a102@demo.example';
const MANAGER = 'manager@demo.example';

const browser = await launch();
const rows = [];

/** Loads `path` in a fresh context (cookies from `state`) and sums what it downloaded. */
async function measure(label, path, state, resident = true) {
  const context = await browser.newContext(state ? { storageState: state } : {});
  const page = await context.newPage();
  const files = new Map();
  page.on('response', async (response) => {
    const url = new URL(response.url());
    if (!/\.(wasm|js)$/.test(url.pathname)) return;
    try {
      files.set(url.pathname, gzipSync(await response.body(), { level: 9 }).length);
    } catch {
      // A redirect or an aborted request has no body.
    }
  });
  await page.goto(`${BASE}${path}`);
  await hydrated(page);
  // Lazy islands fetch their chunks after hydration starts: let the network settle.
  await page.waitForLoadState('networkidle');
  const bytes = [...files.values()].reduce((sum, size) => sum + size, 0);
  rows.push({ label, path, files: files.size, kb: Math.round(bytes / 1024), resident });
  await context.close();
}

/** Signs in and returns the session, with a page's links read off the home page. */
async function session(email) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email);
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  await hydrated(page);
  const href = async (selector) =>
    new URL(await page.locator(selector).first().getAttribute('href'), BASE).pathname;
  const links = {
    account: await href('article.account h2 a').catch(() => null),
    meter: await href('.unit a.serial').catch(() => null),
  };
  const state = await context.storageState();
  await context.close();
  return { state, links };
}

/** A payment started on the public pay page; returns its status page's path. */
async function publicPayment() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/pay?reference=wa-b105`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Pay', exact: true }).click();
  await page.waitForURL(/\/pay\/sandbox\/pay_/);
  const sandbox = new URL(page.url()).pathname;
  await context.close();
  return { sandbox, status: sandbox.replace('/pay/sandbox/', '/payments/') };
}

const resident = await session(RESIDENT);
await measure('sign-in', '/sign-in', null);
await measure('resident home', '/', resident.state);
await measure('account', resident.links.account, resident.state);
await measure('top-up', `${resident.links.account}/top-up`, resident.state);
await measure('meter', resident.links.meter, resident.state);
await measure('notices and push', '/notifications', resident.state);
await measure('pay for someone', '/pay?reference=wa-b105', null);
const payment = await publicPayment();
await measure('sandbox checkout', payment.sandbox, null);
await measure('payment status', payment.status, null);
const manager = await session(MANAGER);
await measure('console home (staff)', '/manage', manager.state, false);
await browser.close();

console.log('page                      KB gzip  files  path');
for (const row of rows) {
  const over = row.resident && row.kb > BUDGET_KB ? `  over ${BUDGET_KB} KB` : '';
  console.log(
    `${row.label.padEnd(26)}${String(row.kb).padStart(7)}  ${String(row.files).padStart(5)}  ${row.path}${over}`,
  );
}
