// Shared set-up for the end-to-end tests: Debian's Chromium driven by playwright-core, against
// the server that `cargo leptos end-to-end` starts (demo data, fresh database).

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BASE = process.env.PREPAID_E2E_URL ?? 'http://127.0.0.1:3000';
export const PASSWORD = 'prepaid-demo';

/** Waits until the server answers /healthz (it may still be starting). */
export async function waitForServer(timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${BASE}/healthz`);
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the server at ${BASE} did not come up: ${last}`);
}

const CHROMIUM = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
};

export async function launch() {
  return chromium.launch(CHROMIUM);
}

/**
 * A browser with a profile on disk, as a person's own is: Chromium installs apps only outside
 * incognito, which every ordinary test context is.
 */
export async function launchProfile(viewport = { width: 1280, height: 900 }) {
  const dir = mkdtempSync(join(tmpdir(), 'prepaid-profile-'));
  const context = await chromium.launchPersistentContext(dir, { ...CHROMIUM, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, problems: watch(page) };
}

/**
 * A fresh browser context and page that records every page error and console error: a failed
 * hydration shows only there, so each test ends by asserting there were none.
 */
export async function openPage(browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  return { context, page, problems: watch(page) };
}

/**
 * Records what went wrong on `page`: errors thrown, errors logged, and pages served without
 * the policy their scripts need.
 */
function watch(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The page's address too: a problem that shows once in many runs needs to say where.
    if (message.type() === 'error') problems.push(`console: ${message.text()} (on ${page.url()})`);
  });
  page.on('response', async (response) => {
    // A page of the app runs its scripts under a policy naming this response's nonce; one
    // that came with another policy (the server's default for non-pages) cannot hydrate.
    if (!response.request().isNavigationRequest() || response.status() !== 200) return;
    const headers = await response.allHeaders();
    const policy = headers['content-security-policy'];
    if (policy === undefined || policy.includes("'nonce-")) return;
    const body = await response.text().catch(() => '');
    if (body.includes('/pkg/')) {
      // The request id finds the server's log lines for it; a service worker may answer instead.
      const via = response.fromServiceWorker() ? 'the service worker' : `request ${headers['x-request-id']}`;
      const problem = `page without its policy: ${response.url()} (${headers['content-type']}, ${via}): ${policy}`;
      // Said at once too: such a page never hydrates, so the test may fail waiting for it
      // before it ever asserts there were no problems.
      console.error(problem);
      problems.push(problem);
    }
  });
  return problems;
}

/** Waits until the WebAssembly bundle has taken over the page. */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  // Pages are server-rendered; only their islands run WebAssembly, lazy ones once their
  // chunk has arrived. Each counts itself on <body> when hydrated.
  await page.waitForFunction(
    () => Number(document.body.dataset.islands ?? 0) >= document.querySelectorAll('leptos-island').length,
    null,
    { timeout: 30_000 },
  );
}

export async function signIn(page, email, password = PASSWORD) {
  await page.goto(`${BASE}/sign-in`);
  await hydrated(page);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

export async function screenshot(page, name) {
  if (!process.env.PREPAID_E2E_SCREENSHOTS) return;
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

export function assertNoProblems(problems) {
  assert.deepEqual(problems, [], `the page reported errors:\n${problems.join('\n')}`);
}
