// bench/ui.sh's driver: the web UI's figures in headless Chromium (playwright-core from
// web/node_modules) against a NetPulse server that bench/ui.sh started and seeded.
//
//   node bench/ui.mjs URL EMAIL PASSWORD RUNS
//
// Prints one line per figure, "name value unit":
//   first_load_bytes   the JS and CSS index.html loads, as sent gzipped (target < 150 KB)
//   overview_cold_ms   navigation to an interactive overview (the device tiles and the open
//                      alerts table drawn from the API's data), a fresh browser context each
//                      time (no cache), signed in by the session cookie: median of RUNS
//   overview_warm_ms   the same on a reload (cached assets): median of RUNS (target < 1 s)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [url, email, password, runsText] = process.argv.slice(2);
const runs = Number(runsText || 5);
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
});

async function interactive(page) {
  await page.locator('.tiles .tile-count').first().waitFor({ timeout: 30000 });
  await page.locator('table.list tbody tr').first().waitFor({ timeout: 30000 });
}

// Transfer sizes of the assets as the browser received them.
{
  const context = await browser.newContext();
  const page = await context.newPage();
  const sizes = new Map();
  page.on('response', async (r) => {
    const path = new URL(r.url()).pathname;
    if (/\.(js|css)$/.test(path)) {
      const sizesOf = await r.request().sizes();
      sizes.set(path, sizesOf.responseBodySize);
    }
  });
  await page.goto(url + '/login');
  await page.getByLabel('Email').waitFor();
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  console.log(`first_load_bytes ${total} bytes`);
  await context.close();
}

const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url + '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await interactive(page);
  // Cold: a new context with the session cookie only (no cached assets).
  const cookies = await context.cookies();
  const fresh = await browser.newContext();
  await fresh.addCookies(cookies);
  const coldPage = await fresh.newPage();
  await coldPage.addInitScript(() => localStorage.setItem('netpulse.session', '1'));
  let t0 = Date.now();
  await coldPage.goto(url + '/');
  await interactive(coldPage);
  cold.push(Date.now() - t0);
  t0 = Date.now();
  await coldPage.reload();
  await interactive(coldPage);
  warm.push(Date.now() - t0);
  await fresh.close();
  await context.close();
}
console.log(`overview_cold_ms ${median(cold)} ms (${cold.join(' ')})`);
console.log(`overview_warm_ms ${median(warm)} ms (${warm.join(' ')})`);
await browser.close();
