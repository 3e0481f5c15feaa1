// The web UI in a real browser (Debian's Chromium, headless) against the real binary (issue 16):
// sign-in with its errors, the overview, the session surviving a reload (the refresh cookie),
// sign-out, the themes and a phone's width, axe-core on every page, and nothing fetched from
// off this machine or refused by the CSP. Screenshots go to $NETPULSE_ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, adminEmail, adminPassword } from './support/server.mjs';
import { launch, openPage, screenshot, axeViolations } from './support/browser.mjs';

let server;
let browser;

before(async () => {
  server = await new Server().start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

async function signIn(page, email = adminEmail, password = adminPassword) {
  await page.goto(server.url + '/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a wrong password is refused with the server\'s message, then sign-in works', async () => {
  const page = await openPage(browser);
  await page.goto(server.url + '/devices/12');
  // Not signed in: the app's own path lands on the sign-in form.
  await page.waitForURL(server.url + '/login');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'login-light');
  await signIn(page, adminEmail, 'not-the-password');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /invalid email or password/i);
  await screenshot(page, 'login-error');
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the overview shows devices and alerts, survives a reload, and signs out', async () => {
  const token = await server.token();
  for (const [name, address] of [
    ['core-1', '127.0.0.1'],
    ['edge-2', '127.0.0.2'],
  ]) {
    const r = await server.api(
      'POST',
      '/api/v1/devices',
      { name, address, type: 'router', enabled: false },
      token,
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const tiles = page.getByRole('list', { name: 'Devices by status' });
  await tiles.getByText('unknown').waitFor();
  // Two devices, neither polled (disabled): both unknown, none up or down.
  assert.equal(await tiles.locator('.status-unknown .tile-count').innerText(), '2');
  assert.equal(await tiles.locator('.status-down .tile-count').innerText(), '0');
  await page.getByText('No open alerts. All quiet.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'overview-light');

  // A reload keeps the session: the access token was in memory only, the cookie brings it back.
  await page.reload();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'netpulse_session');
  assert.ok(session, 'the session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('netpulse_session')), false);

  // Sign out: back to the form, and a reload does not sign in again.
  await page.getByText(adminEmail.split('@')[0], { exact: false }).first().click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(server.url + '/login');
  await page.reload();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('themes (light, dark, high contrast) and a phone\'s width pass axe', async () => {
  for (const [theme, label] of [
    ['dark', 'Dark'],
    ['contrast', 'High contrast'],
  ]) {
    const page = await openPage(browser);
    await signIn(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByLabel('Theme').selectOption({ label });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
    // The choice is kept.
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
    assert.deepEqual(await axeViolations(page), [], theme);
    await screenshot(page, `overview-${theme}`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  }
  const phone = await openPage(browser, { viewport: { width: 375, height: 740 } });
  await signIn(phone);
  await phone.getByRole('heading', { name: 'Overview' }).waitFor();
  // No sideways scrolling on a phone; the navigation folds behind the menu button.
  const overflow = await phone.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.equal(overflow, 0, 'no sideways scrolling at 375 px');
  assert.equal(await phone.getByRole('link', { name: 'Devices' }).isVisible(), false);
  await phone.getByRole('button', { name: 'Menu' }).click();
  assert.equal(await phone.getByRole('link', { name: 'Devices' }).isVisible(), true);
  assert.deepEqual(await axeViolations(phone), []);
  await screenshot(phone, 'overview-phone');
  await phone.goto(server.url + '/login');
  await phone.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.deepEqual(phone.problems, []);
  await phone.context().close();
});

test('an unknown page says so inside the app', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/no/such/page');
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByRole('link', { name: 'Back to the overview' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('change password: the server\'s message beside the field, then sign in with the new one', async () => {
  const admin = await server.token();
  const email = 'ops@web.example';
  const r = await server.api(
    'POST',
    '/api/v1/users',
    { email, name: 'Olga Ops', role: 'operator', password: 'first-password-1' },
    admin,
  );
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const page = await openPage(browser);
  await signIn(page, email, 'first-password-1');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByText('Olga Ops').click();
  await page.getByRole('link', { name: 'Change password' }).click();
  await page.getByRole('heading', { name: 'Change password' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByLabel('Current password').fill('first-password-1');
  await page.getByLabel('New password', { exact: true }).fill('short');
  await page.getByLabel('New password again').fill('short');
  await page.getByRole('button', { name: 'Change password' }).click();
  // The message is beside the field and read with it; the field is marked invalid.
  const field = page.getByLabel('New password', { exact: true });
  const message = page.getByText(/at least \d+ characters/);
  await message.waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  const described = await field.getAttribute('aria-describedby');
  assert.equal(await message.getAttribute('id'), described);
  assert.match(await message.innerText(), /^Must be at least \d+ characters$/);
  // The user menu closed when its link was followed.
  assert.equal(await page.locator('details.user').getAttribute('open'), null);
  await screenshot(page, 'password-error');
  await page.getByLabel('New password', { exact: true }).fill('second-password-2');
  await page.getByLabel('New password again').fill('second-password-2');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await signIn(page, email, 'first-password-1');
  await page.getByRole('alert').waitFor();
  await signIn(page, email, 'second-password-2');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('an alert raised by pushed metrics appears on the overview live, without a reload', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('status').getByText('Live').waitFor();
  // Mark the document: a reload would lose the mark.
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  const started = Date.now();
  await server.raiseAlert(await server.token(), 'web_temp', 'critical');
  // The overview's own timer is a minute: only the live feed can bring it this fast.
  await page.getByRole('link', { name: 'web_temp high' }).waitFor({ timeout: 10000 });
  assert.ok(Date.now() - started < 10000);
  assert.equal(await page.evaluate(() => window.__notReloaded), true);
  const critical = page.locator('.counts .sev-critical');
  assert.match(await critical.innerText(), /1/);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'overview-alert');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the feed shows reconnecting while the server restarts, then is live again', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const status = page.getByRole('status');
  await status.getByText('Live').waitFor();
  await page.getByRole('list', { name: 'Devices by status' }).waitFor();
  await server.stop();
  await status.getByText(/Reconnecting|Offline/).waitFor({ timeout: 10000 });
  await screenshot(page, 'overview-reconnecting');
  await server.start();
  await status.getByText('Live').waitFor({ timeout: 30000 });
  // Still signed in, and the overview reloads from the new process (its feed is new: reload).
  await page.getByRole('list', { name: 'Devices by status' }).waitFor({ timeout: 10000 });
  await page.getByRole('alert').waitFor({ state: 'detached', timeout: 10000 });
  // While the server was down the page's requests failed; nothing else went wrong.
  const problems = page.problems.filter((p) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(p));
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('the alerts console: acknowledge one, resolve others in bulk, live; a viewer only reads', async () => {
  const admin = await server.token();
  for (const m of ['console_a', 'console_b', 'console_c']) await server.raiseAlert(admin, m);
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
  for (const m of ['console_a', 'console_b', 'console_c']) {
    await page.getByRole('link', { name: `${m} high` }).waitFor();
  }
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'alerts');

  await page.getByRole('button', { name: 'Acknowledge console_a high' }).click();
  const rowA = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'console_a high' }) });
  await rowA.getByText('acknowledged').waitFor();
  await rowA.getByText(`by ${adminEmail}`).waitFor();
  await page.getByRole('checkbox', { name: 'Select console_b high' }).check();
  await page.getByRole('checkbox', { name: 'Select console_c high' }).check();
  await page.getByRole('button', { name: 'Resolve selected' }).click();
  await page.getByRole('status').filter({ hasText: 'Resolved 2' }).waitFor();
  await page.getByRole('link', { name: 'console_b high' }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'console_c high' }).waitFor({ state: 'detached' });
  // Resolved ones are a filter away.
  await page.getByLabel('Show').selectOption({ label: 'Resolved' });
  await page.getByRole('link', { name: 'console_b high' }).waitFor();
  assert.match(page.url(), /\/alerts\?show=resolved$/);
  // A new alert appears while the console is open.
  await page.getByLabel('Show').selectOption({ label: 'Open' });
  await server.raiseAlert(admin, 'console_d');
  await page.getByRole('link', { name: 'console_d high' }).waitFor({ timeout: 10000 });
  await screenshot(page, 'alerts-acted');
  // One alert: acknowledge with a note, comment, and see both in its history.
  await page.getByRole('link', { name: 'console_d high' }).click();
  await page.getByRole('heading', { name: /console_d high/ }).waitFor();
  await page.getByLabel('Note, reason or comment').fill('looking at the fibre');
  await page.getByRole('button', { name: 'Acknowledge' }).click();
  await page.getByText(/firing → acknowledged by .* — looking at the fibre/).waitFor();
  await page.getByLabel('Note, reason or comment').fill('splice crew on site');
  await page.getByRole('button', { name: 'Comment' }).click();
  await page.getByRole('list').getByText('splice crew on site').waitFor();
  // Acknowledging again is refused by the server, and the message is shown where one acted.
  const again = await server.api('POST', `/api/v1/alerts/${new URL(page.url()).pathname.split('/')[2]}/acknowledge`, {}, admin);
  assert.equal(again.status, 409);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'alert-detail');
  assert.deepEqual(page.problems, []);
  await page.context().close();

  const r = await server.api(
    'POST',
    '/api/v1/users',
    { email: 'viewer@web.example', name: 'Vera Viewer', role: 'viewer', password: 'viewer-password-1' },
    admin,
  );
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const viewer = await openPage(browser);
  await signIn(viewer, 'viewer@web.example', 'viewer-password-1');
  await viewer.getByRole('heading', { name: 'Overview' }).waitFor();
  await viewer.goto(server.url + '/alerts');
  await viewer.getByRole('link', { name: 'console_d high' }).waitFor();
  assert.equal(await viewer.getByRole('button', { name: /Acknowledge|Resolve/ }).count(), 0);
  assert.equal(await viewer.getByRole('checkbox', { name: /Select/ }).count(), 0);
  assert.deepEqual(viewer.problems, []);
  await viewer.context().close();
});

test('the device list: search, filter, sort and pages over 250 devices; the overview links in', async () => {
  const admin = await server.token();
  // One CSV import (the per-user rate limit of a new install is 50 requests a second).
  const csv = ['name,address,type,enabled'];
  for (let i = 0; i < 250; i++) csv.push(`olt-${String(i).padStart(3, '0')},127.3.0.${i + 1},olt,false`);
  const imported = await fetch(server.url + '/api/v1/devices/import', {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'text/csv' },
    body: csv.join('\n') + '\n',
  });
  assert.ok(imported.ok, await imported.text());
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  // The "unknown" tile leads to the list filtered by that status.
  await page.getByRole('list', { name: 'Devices by status' }).getByRole('link', { name: /unknown/i }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  assert.equal(await page.getByLabel('Status').inputValue(), 'unknown');
  const pager = page.getByRole('navigation', { name: 'Pages' });
  await pager.getByText(/Page 1 of 3 · 252 devices/).waitFor();
  assert.equal(await page.locator('table.devices tbody tr').count(), 100);
  await pager.getByRole('button', { name: 'Next' }).click();
  await pager.getByText(/Page 2 of 3/).waitFor();
  await page.getByRole('link', { name: 'olt-100' }).waitFor();
  // Search narrows it; the URL keeps the view.
  await page.getByLabel('Search').fill('olt-24');
  await pager.getByText(/Page 1 of 1 · 10 devices/).waitFor();
  assert.match(page.url(), /q=olt-24/);
  // Sorting by name, descending.
  await page.getByRole('button', { name: 'Name' }).click();
  await page.getByRole('button', { name: /Name ▼/ }).waitFor();
  await page.locator('table.devices tbody tr').first().getByRole('link', { name: 'olt-249' }).waitFor();
  assert.equal(await page.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort'), 'descending');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'devices');
  await page.getByLabel('Search').fill('no-such-device');
  await page.getByText('No devices match.').waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('admin: add a user (the API\'s message beside the field), who signs in; a viewer is refused', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Email').fill('nina@web.example');
  await form.getByLabel('Name').fill('Nina NOC');
  await form.getByLabel('Role').selectOption('operator');
  await form.getByLabel('Password').fill('short');
  await form.getByRole('button', { name: 'Add user' }).click();
  const password = form.getByLabel('Password');
  await page.getByText(/Must be at least \d+ characters/).waitFor();
  assert.equal(await password.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'users-error');
  await password.fill('nina-password-1');
  await form.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('status').filter({ hasText: 'nina@web.example added as operator' }).waitFor();
  await page.getByRole('cell', { name: 'Nina NOC' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'users');
  assert.deepEqual(page.problems, []);
  await page.context().close();

  // The new user signs in.
  const nina = await openPage(browser);
  await signIn(nina, 'nina@web.example', 'nina-password-1');
  await nina.getByRole('heading', { name: 'Overview' }).waitFor();
  // An operator reads the users (users:read) but may not change them.
  await nina.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await nina.getByRole('cell', { name: 'Nina NOC' }).waitFor();
  assert.equal(await nina.getByRole('form', { name: 'Add a user' }).count(), 0);
  assert.equal(await nina.getByRole('button', { name: /Deactivate/ }).count(), 0);
  assert.deepEqual(nina.problems, []);
  await nina.context().close();

  // A viewer (made by an earlier test) is refused the admin page, and the API refuses too.
  const viewer = await openPage(browser);
  await signIn(viewer, 'viewer@web.example', 'viewer-password-1');
  await viewer.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.equal(await viewer.getByRole('link', { name: 'Users' }).count(), 0);
  await viewer.goto(server.url + '/admin/users');
  await viewer.getByRole('alert').filter({ hasText: 'may not see the users' }).waitFor();
  assert.equal(await viewer.getByRole('table').count(), 0);
  const token = await server.token('viewer@web.example', 'viewer-password-1');
  assert.equal((await server.api('GET', '/api/v1/users', undefined, token)).status, 403);
  await screenshot(viewer, 'users-refused');
  assert.deepEqual(viewer.problems, []);
  await viewer.context().close();
});

test('a device added through the API comes up on its page after "poll now"', async () => {
  const admin = await server.token();
  const r = await server.api(
    'POST',
    '/api/v1/devices',
    { name: 'loopback-router', address: '127.0.0.9', type: 'router', poll_interval_s: 300 },
    admin,
  );
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(`${server.url}/devices/${r.body.data.id}`);
  await page.getByRole('heading', { name: /loopback-router/ }).waitFor();
  await page.getByRole('button', { name: 'Poll now' }).click();
  // ICMP to 127.0.0.9 (loopback) answers: the device is up, with its latency.
  await page.getByRole('heading', { name: /loopback-router/ }).getByText('up').waitFor({ timeout: 20000 });
  await page.getByText(/ms · 0 % loss/).waitFor({ timeout: 10000 });
  // The poll's sample is in the store: on the next load the latency chart draws it (the charts
  // do not follow the feed yet).
  const chart = page.getByRole('img', { name: /Round-trip time, \d+ samples/ });
  for (let i = 0; i < 20 && (await chart.count()) === 0; i++) {
    await page.reload();
    await page.getByRole('heading', { name: /loopback-router/ }).waitFor();
    await page.getByText(/Latency and loss/).waitFor();
    if ((await chart.count()) === 0) await new Promise((r) => setTimeout(r, 500));
  }
  await chart.waitFor({ timeout: 5000 });
  assert.ok((await page.locator('.chart-box canvas').count()) >= 2);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'device');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('KPI entry: a bad value gets the server\'s message beside the field, then a good one is stored', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'KPI entry' }).click();
  await page.getByRole('heading', { name: 'KPI entry' }).waitFor();
  await page.getByLabel('Metric').fill('subscribers_active');
  await page.getByLabel('Value', { exact: true }).fill('lots');
  await page.getByLabel('Tags, one name=value a line').fill('site=lagos');
  await page.getByRole('button', { name: 'Enter' }).click();
  const value = page.getByLabel('Value', { exact: true });
  await page.locator('#' + (await value.getAttribute('id')) + '-error').waitFor();
  assert.equal(await value.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'kpi-error');
  await value.fill('1234.5');
  await page.getByLabel('Note').fill('from the billing export');
  await page.getByRole('button', { name: 'Enter' }).click();
  await page.getByRole('cell', { name: '1234.5' }).waitFor();
  await page.getByRole('cell', { name: 'site=lagos' }).waitFor();
  assert.equal(await value.getAttribute('aria-invalid'), null);
  // It is in the store.
  const token = await server.token();
  const q = await server.api('GET', '/api/v1/query?query=subscribers_active', undefined, token);
  assert.equal(q.status, 200, JSON.stringify(q.body));
  assert.match(JSON.stringify(q.body.data), /1234\.5/);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'kpi');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
