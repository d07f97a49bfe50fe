import { launch, openPage, signIn, hydrated, BASE } from './tests/support.mjs';
const browser = await launch();
const { context, page } = await openPage(browser, { width: 1000, height: 900 });
await signIn(page, 'manager@demo.example');
await page.waitForURL(`${BASE}/manage`);
await page.goto(`${BASE}/manage/sites/1/bands`);
await hydrated(page);
const electricity = page.locator('section.band-report[data-utility="electricity"]');
const fills = await electricity.locator('tr.band svg').first()
  .evaluate((svg) => ['rect.whole', 'rect.bar'].map((rect) => getComputedStyle(svg.querySelector(rect)).fill));
console.log(fills);
await electricity.screenshot({ path: '/tmp/bands-card.png' });
await context.close();
await browser.close();
