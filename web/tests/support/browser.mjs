// Debian's Chromium, headless, driven by playwright-core; every page checked for what must
// never happen: a request off this machine, a CSP violation, an uncaught error.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export const artifacts = process.env.NETPULSE_ARTIFACTS || join(process.cwd(), 'web-artifacts');
mkdirSync(artifacts, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Root (CI, containers) cannot use Chromium's sandbox.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
}

// A page with its problems collected in `page.problems` (checked by the tests).
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: options.viewport || { width: 1280, height: 800 },
    colorScheme: options.colorScheme || 'light',
    timezoneId: options.timezoneId || 'Europe/Berlin',
    locale: 'en-GB',
    hasTouch: options.hasTouch || false,
  });
  const page = await context.newPage();
  page.problems = [];
  // Chrome logs every 4xx of a fetch as a console error; the API's 4xx are answers the tests
  // provoke (a wrong password). What must not happen: a file of the app missing, a 5xx.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    const api = new URL(r.url()).pathname.startsWith('/api/');
    // 429: the UI itself tripped its user's rate limit (the tests run with a new install's).
    if (r.status() >= 500 || r.status() === 429 || (!api && r.status() >= 400)) {
      page.problems.push(`${r.status()} for ${r.url()}`);
    }
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== '127.0.0.1') {
      page.problems.push(`a request off this machine: ${url.href}`);
      return route.abort();
    }
    return route.continue();
  });
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// axe-core's WCAG 2.1 A/AA checks; the serious and critical violations, described.
export async function axeViolations(page) {
  // Evaluated through the DevTools protocol: a <script> tag would be (rightly) refused by the CSP.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
