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
//   chart_10k_draw_ms  the metric explorer drawing 10,000 raw samples: from the chart's start
//                      to uPlot's first draw (the app's own performance measure): median of
//                      RUNS (target < 100 ms)
//   devices_scroll     the device list (a page of 100 rows, the API's page) scrolled top to
//                      bottom in 120 steps, one per animation frame: frames over 25 ms (dropped
//                      at 60 Hz) and the slowest frame
//   map_1k_ms          navigation to the topology map drawn (every device of the fitted view
//                      in the SVG): median of RUNS
//   map_zoom_frames    6 turns of the wheel over the map, 5 steps each, one step per animation
//                      frame (dispatched in the page), a pause after each turn: the median and
//                      slowest frame (the drawn layer is transformed while the wheel
//                      turns), and the redraws at the settled zoom (the app's own measure
//                      'netpulse:map-draw': devices laid out again at the new zoom)
// BENCH_UI_SHOT names a file for a screenshot of the map.
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

async function signIn(page) {
  await page.goto(url + '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await interactive(page);
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
  await signIn(page);
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

// A signed-in page for the rest.
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await signIn(page);

const draws = [];
let points = 0;
for (let i = 0; i < runs; i++) {
  await page.goto(url + '/explore?metric=ui_chart&range=2d&resolution=raw');
  await page.locator('.explore canvas').first().waitFor({ timeout: 30000 });
  const m = await page.waitForFunction(() => {
    const e = performance.getEntriesByName('netpulse:chart').find((x) => x.detail.points >= 10000);
    return e ? [e.duration, e.detail.points] : null;
  });
  const [ms, n] = await m.jsonValue();
  draws.push(Math.round(ms * 10) / 10);
  points = n;
}
console.log(`chart_10k_draw_ms ${median(draws)} ms (${draws.join(' ')}; ${points} points)`);

await page.goto(url + '/devices');
await page.locator('table.list tbody tr').nth(99).waitFor({ timeout: 30000 });
const frames = await page.evaluate(async () => {
  const gaps = [];
  let last = performance.now();
  let running = true;
  const tick = (t) => {
    gaps.push(t - last);
    last = t;
    if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const max = document.documentElement.scrollHeight - innerHeight;
  for (let i = 0; i <= 120; i++) {
    scrollTo(0, (max * i) / 120);
    await new Promise((r) => requestAnimationFrame(r));
  }
  running = false;
  return { gaps: gaps.slice(1), height: max };
});
const dropped = frames.gaps.filter((g) => g > 25).length;
console.log(
  `devices_scroll ${dropped} frames over 25 ms of ${frames.gaps.length} (slowest ${Math.round(Math.max(...frames.gaps))} ms, ${frames.height} px scrolled)`,
);
const mapTimes = [];
for (let i = 0; i < runs; i++) {
  await page.goto(url + '/');
  await interactive(page);
  const t0 = Date.now();
  await page.getByRole('link', { name: 'Map', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('svg.map a.node').length >= 1000, undefined, {
    timeout: 30000,
  });
  mapTimes.push(Date.now() - t0);
}
console.log(`map_1k_ms ${median(mapTimes)} ms (${mapTimes.join(' ')})`);
if (process.env.BENCH_UI_SHOT) await page.screenshot({ path: process.env.BENCH_UI_SHOT });
const zoomFrames = [];
await page.evaluate(() => performance.clearMeasures('netpulse:map-draw'));
// Six turns of the wheel, five steps each (in, out, in, ...), one step per animation frame,
// dispatched in the page (no round trip to the driver per step); a pause after each turn, in
// which the map redraws at the new zoom. The frame gaps are what a user's wheel sees.
for (let turn = 0; turn < 6; turn++) {
  const gaps = await page.evaluate(async (deltaY) => {
    const svg = document.querySelector('svg.map');
    const box = svg.getBoundingClientRect();
    const out = [];
    let last = await new Promise((r) => requestAnimationFrame(r));
    for (let i = 0; i < 5; i++) {
      svg.dispatchEvent(
        new WheelEvent('wheel', { deltaY, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2, bubbles: true, cancelable: true }),
      );
      const t = await new Promise((r) => requestAnimationFrame(r));
      out.push(t - last);
      last = t;
    }
    return out;
  }, turn % 2 ? 120 : -120);
  zoomFrames.push(...gaps);
  await page.waitForTimeout(300);
}
const redraws = await page.evaluate(() =>
  performance.getEntriesByName('netpulse:map-draw').map((e) => e.duration),
);
console.log(
  `map_zoom_frames median ${median(zoomFrames).toFixed(1)} ms, slowest ${Math.max(...zoomFrames).toFixed(1)} ms per frame while the wheel turns (30 steps); redraw at the settled zoom median ${median(redraws).toFixed(1)} ms, slowest ${Math.max(...redraws).toFixed(1)} ms (${redraws.length} redraws)`,
);
await context.close();
await browser.close();
