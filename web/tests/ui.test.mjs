// The web UI in a real browser (Debian's Chromium, headless) against the real binary (issue 16):
// sign-in with its errors, the overview, the session surviving a reload (the refresh cookie),
// sign-out, the themes and a phone's width, axe-core on every page, and nothing fetched from
// off this machine or refused by the CSP. Screenshots go to $NETPULSE_ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Server, adminEmail, adminPassword } from './support/server.mjs';
import { launch, openPage, screenshot, axeViolations } from './support/browser.mjs';
import { Snmpd } from './support/snmpd.mjs';

let server;
let browser;

before(async () => {
  // Webhooks to this machine (the notification tests' receiver) are allowed.
  server = await new Server({ NETPULSE_NETWORK_OUTBOUND_ALLOW: '127.0.0.0/8' }).start();
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
  await page.locator('details.user > summary').click();
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
  // A new alert appears while the console is open, with a chime when the sound is on (the
  // tones counted as the page starts them: headless Chromium plays nothing).
  await page.getByLabel('Show').selectOption({ label: 'Open' });
  await page.evaluate(() => {
    window.tones = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) {
      window.tones += 1;
      return start.apply(this, args);
    };
  });
  await page.getByLabel('Sound for new critical alerts').check();
  assert.equal(await page.evaluate(() => window.tones), 2, 'turning the sound on plays it once');
  await server.raiseAlert(admin, 'console_d');
  await page.getByRole('link', { name: 'console_d high' }).waitFor({ timeout: 10000 });
  await page.waitForFunction(() => window.tones === 4);
  await page.getByLabel('Sound for new critical alerts').uncheck();
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

test('device bulk actions: select rows, tag, group, maintenance, delete after asking; failures named', async () => {
  const admin = await server.token();
  const csv = ['name,address,type,enabled'];
  for (let i = 0; i < 12; i++) csv.push(`bulk-${String(i).padStart(2, '0')},127.6.0.${i + 1},cpe,false`);
  const imported = await fetch(server.url + '/api/v1/devices/import', {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'text/csv' },
    body: csv.join('\n') + '\n',
  });
  assert.ok(imported.ok, await imported.text());
  const group = await server.api('POST', '/api/v1/device-groups', { name: 'east' }, admin);
  assert.equal(group.status, 201);
  const byName = async () => {
    const r = await server.api('GET', '/api/v1/devices?q=bulk-&per_page=100', undefined, admin);
    return new Map(r.body.data.map((d) => [d.name, d]));
  };

  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/devices?q=bulk-');
  await page.getByRole('link', { name: 'bulk-11' }).waitFor();
  const bulk = page.getByRole('group', { name: 'Selected devices' });
  assert.equal(await bulk.count(), 0, 'no bulk toolbar before a selection');
  await page.getByLabel('Select all on this page', { exact: true }).check();
  await bulk.getByText('12 selected').waitFor();
  await bulk.getByLabel('Action').selectOption({ label: 'Add a tag' });
  await bulk.getByLabel('Tag', { exact: true }).fill('fiber');
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  await page.getByRole('status').getByText('12 devices tagged fiber.').waitFor();
  for (const d of (await byName()).values()) assert.deepEqual(d.tags, ['fiber']);

  // Two rows into a group; three into maintenance (the status shows it).
  await page.getByLabel('Select bulk-00', { exact: true }).check();
  await page.getByLabel('Select bulk-01', { exact: true }).check();
  await bulk.getByLabel('Action').selectOption({ label: 'Add to a group' });
  await bulk.getByRole('combobox', { name: /^Group/ }).selectOption('east');
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  await page.getByRole('status').getByText('2 devices added to the group east.').waitFor();
  let now = await byName();
  assert.deepEqual(now.get('bulk-00').groups, ['east']);
  assert.deepEqual(now.get('bulk-02').groups, []);
  for (const n of ['bulk-02', 'bulk-03', 'bulk-04']) await page.getByLabel(`Select ${n}`, { exact: true }).check();
  await bulk.getByLabel('Action').selectOption({ label: 'Put in maintenance' });
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  await page.getByRole('status').getByText('3 devices put in maintenance.').waitFor();
  const row = page.locator('table.devices tbody tr', { has: page.getByRole('link', { name: 'bulk-03', exact: true }) });
  await row.locator('.status-pill.status-maintenance').waitFor();

  // Delete asks first; cancelled, nothing goes; confirmed, two go.
  for (const n of ['bulk-10', 'bulk-11']) await page.getByLabel(`Select ${n}`, { exact: true }).check();
  await bulk.getByLabel('Action').selectOption({ label: 'Delete' });
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  await bulk.getByText('Delete 2 devices? Their parent links go with them.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'devices-bulk');
  await bulk.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await byName()).size, 12);
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  await bulk.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByRole('status').getByText('2 devices deleted.').waitFor();
  await page.getByRole('navigation', { name: 'Pages' }).getByText(/10 devices/).waitFor();
  now = await byName();
  assert.equal(now.size, 10);
  assert.equal(now.has('bulk-11'), false);

  // A device deleted meanwhile (another operator) is named as not done; the others are done.
  await page.getByLabel('Select bulk-08', { exact: true }).check();
  await page.getByLabel('Select bulk-09', { exact: true }).check();
  const gone = await server.api('DELETE', `/api/v1/devices/${now.get('bulk-09').id}`, undefined, admin);
  assert.equal(gone.status, 204);
  await bulk.getByLabel('Action').selectOption({ label: 'Remove a tag' });
  await bulk.getByLabel('Tag', { exact: true }).fill('fiber');
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  const outcome = page.getByRole('status').filter({ hasText: '1 device untagged fiber.' });
  await outcome.waitFor();
  assert.match(await outcome.innerText(), new RegExp(`device ${now.get('bulk-09').id}: .*no device`, 'i'));
  assert.deepEqual((await byName()).get('bulk-08').tags, []);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('admin: add a user (the API\'s message beside the field), who signs in; a viewer is refused', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
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
  await nina.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await nina.getByRole('cell', { name: 'Nina NOC' }).waitFor();
  assert.equal(await nina.getByRole('form', { name: 'Add a user' }).count(), 0);
  assert.equal(await nina.getByRole('button', { name: /Deactivate/ }).count(), 0);
  assert.deepEqual(nina.problems, []);
  await nina.context().close();

  // A viewer (made by an earlier test) is refused the admin page, and the API refuses too.
  const viewer = await openPage(browser);
  await signIn(viewer, 'viewer@web.example', 'viewer-password-1');
  await viewer.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.equal(await viewer.getByRole('link', { name: 'Admin' }).count(), 0);
  await viewer.goto(server.url + '/admin/users');
  await viewer.getByRole('alert').filter({ hasText: 'may not see the users' }).waitFor();
  assert.equal(await viewer.getByRole('table').count(), 0);
  const token = await server.token('viewer@web.example', 'viewer-password-1');
  assert.equal((await server.api('GET', '/api/v1/users', undefined, token)).status, 403);
  await screenshot(viewer, 'users-refused');
  assert.deepEqual(viewer.problems, []);
  await viewer.context().close();
});

test('admin: organizations — add one with its first admin, who signs in to an empty tenant; rename; delete after typing its slug', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/admin/organizations');
  await page.getByRole('heading', { name: 'Organizations' }).waitFor();
  await page.locator('table.list .badge', { hasText: 'system' }).waitFor();
  // A slug the server refuses: its message beside the field.
  await page.getByLabel('Name', { exact: true }).fill('Fiber Co');
  await page.getByLabel('Slug (lower case, digits, dashes)').fill('Fiber Co!');
  await page.getByRole('button', { name: 'Add organization' }).click();
  const slug = page.getByLabel('Slug (lower case, digits, dashes)');
  await page.waitForFunction(() => document.querySelector('input[name="slug"]')?.getAttribute('aria-invalid') === 'true');
  assert.equal(await slug.getAttribute('aria-invalid'), 'true');
  await slug.fill('fiber-co');
  await page.getByLabel("First admin's email (optional)").fill('boss@fiber.example');
  await page.getByLabel("First admin's password").fill('fiber-boss-password');
  await page.getByRole('button', { name: 'Add organization' }).click();
  await page.getByText('Fiber Co added; boss@fiber.example can sign in as its admin').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'admin-organizations');

  // Their admin signs in to a tenant of their own: no devices, no Organizations tab.
  const theirs = await openPage(browser);
  await theirs.goto(server.url + '/');
  await theirs.getByLabel('Email').fill('boss@fiber.example');
  await theirs.getByLabel('Password').fill('fiber-boss-password');
  await theirs.getByRole('button', { name: 'Sign in' }).click();
  await theirs.getByRole('heading', { name: 'Overview' }).waitFor();
  await theirs.goto(server.url + '/devices');
  await theirs.getByText('No devices match.').waitFor();
  await theirs.goto(server.url + '/admin/users');
  await theirs.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).waitFor();
  assert.equal(await theirs.getByRole('link', { name: 'Organizations' }).count(), 0);
  await theirs.goto(server.url + '/admin/organizations');
  await theirs.getByText('Only administrators of the system organization manage organizations.').waitFor();
  assert.deepEqual(theirs.problems, []);
  await theirs.context().close();

  // Rename; delete asks for the slug first.
  const row = page.locator('table.list tbody tr', { hasText: 'fiber-co' });
  await row.getByRole('button', { name: 'Rename fiber-co' }).click();
  await row.getByLabel('New name for fiber-co').fill('Fiber Company');
  await row.getByRole('button', { name: 'Save' }).click();
  await page.getByText('fiber-co renamed').waitFor();
  await row.getByText('Fiber Company').waitFor();
  await row.getByRole('button', { name: 'Delete fiber-co' }).click();
  const confirm = row.getByRole('button', { name: 'Delete fiber-co' });
  assert.equal(await confirm.isDisabled(), true);
  await row.getByLabel('Slug to confirm').fill('fiber-c');
  assert.equal(await confirm.isDisabled(), true);
  await row.getByLabel('Slug to confirm').fill('fiber-co');
  await confirm.click();
  await page.getByText('fiber-co deleted').waitFor();
  await page.locator('table.list tbody tr', { hasText: 'fiber-co' }).waitFor({ state: 'detached' });
  const gone = await fetch(server.url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'boss@fiber.example', password: 'fiber-boss-password' }),
  });
  assert.equal(gone.status, 401);

  // Admin → System: the server's health and version, the pollers' figures.
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'System' }).click();
  await page.getByRole('heading', { name: 'System', exact: true }).waitFor();
  const server_ = page.locator('section', { has: page.getByRole('heading', { name: 'Server' }) }).last();
  await server_.getByText('healthy', { exact: true }).waitFor();
  await page.getByRole('heading', { name: 'Polling (this organization)' }).waitFor();
  await page.getByRole('table', { name: 'Checks by kind' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'admin-system');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('admin: settings — a refused value gets the server\'s message beside the field; a live one applies at once, one for the next start waits for it; others are refused', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/admin/system');
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
  // File-only keys are shown on request, not as fields.
  const down = page.getByRole('textbox', { name: 'pollers.down_after', exact: true });
  await down.waitFor();
  assert.equal(await page.getByText('http.listen', { exact: true }).count(), 0);
  await page.getByLabel('Only what can be changed here').uncheck();
  await page.getByText('http.listen', { exact: true }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'http.listen' }).count(), 0);
  await page.getByLabel('Only what can be changed here').check();

  // A value out of range: the server's message beside the field, nothing saved.
  await down.fill('0');
  await page.getByRole('button', { name: 'Save 1 change' }).click();
  await page.getByText('Must be between 1 and 100, not 0.').waitFor();
  assert.equal(await down.getAttribute('aria-invalid'), 'true');

  // A live key and one for the next start, saved together.
  await down.fill('4');
  await page.getByRole('textbox', { name: 'notify.external_url' }).fill('https://noc.example.net');
  await page.getByRole('button', { name: 'Save 2 changes' }).click();
  await page.getByText('pollers.down_after applies when NetPulse restarts').waitFor();
  const waiting = page.getByRole('status').filter({ hasText: 'Waiting for a restart' });
  await waiting.getByRole('link', { name: 'pollers.down_after' }).waitFor();
  assert.equal(await waiting.getByText('notify.external_url').count(), 0);
  const row = page.locator('.setting', { has: page.getByRole('textbox', { name: 'notify.external_url' }) });
  await row.getByText(/Saved here by admin@netpulse.local/).waitFor();
  const admin = await server.token();
  const settings = (await server.api('GET', '/api/v1/settings', undefined, admin)).body.data.settings;
  assert.equal(settings.find((x) => x.key === 'notify.external_url').value, 'https://noc.example.net');
  assert.equal(settings.find((x) => x.key === 'pollers.down_after').value, 3);
  assert.equal(settings.find((x) => x.key === 'pollers.down_after').next, 4);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'admin-settings');
  for (const [theme, label] of [['dark', 'Dark'], ['contrast', 'High contrast']]) {
    await page.getByLabel('Theme').selectOption({ label });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
    assert.deepEqual(await axeViolations(page), [], theme);
    await screenshot(page, `admin-settings-${theme}`);
  }

  // Both taken back to the file's values: the server the other tests share is as it was.
  await page.getByRole('button', { name: 'Use the file\'s value for pollers.down_after' }).click();
  await page.getByText('pollers.down_after saved').waitFor();
  await page.getByRole('button', { name: 'Use the file\'s value for notify.external_url' }).click();
  await page.getByText('notify.external_url saved; in effect now').waitFor();
  await waiting.waitFor({ state: 'detached' });
  await page.waitForFunction(() => ![...document.querySelectorAll('button')].some((b) => b.textContent.startsWith("Use the file's value")));
  assert.deepEqual(page.problems, []);
  await page.context().close();

  // On a phone: one column, no sideways scrolling.
  const phone = await openPage(browser, { viewport: { width: 375, height: 740 } });
  await signIn(phone);
  await phone.getByRole('heading', { name: 'Overview' }).waitFor();
  await phone.goto(server.url + '/admin/settings');
  await phone.getByRole('textbox', { name: 'pollers.down_after', exact: true }).waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'no sideways scrolling at 375 px');
  assert.deepEqual(await axeViolations(phone), []);
  await screenshot(phone, 'admin-settings-phone');
  assert.deepEqual(phone.problems, []);
  await phone.context().close();

  // A tenant's admin has no Settings tab and is told the page is not theirs.
  const org = await server.api('POST', '/api/v1/organizations', { name: 'Settings Tenant', slug: 'settings-tenant' }, admin);
  assert.equal(org.status, 201);
  const made = await server.api(
    'POST',
    `/api/v1/organizations/${org.body.data.id}/users`,
    { email: 'boss@settings-tenant.example', role: 'admin', password: 'settings-tenant-pw' },
    admin,
  );
  assert.equal(made.status, 201);
  const theirs = await openPage(browser);
  await signIn(theirs, 'boss@settings-tenant.example', 'settings-tenant-pw');
  await theirs.getByRole('heading', { name: 'Overview' }).waitFor();
  await theirs.goto(server.url + '/admin/users');
  await theirs.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).waitFor();
  assert.equal(await theirs.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Settings' }).count(), 0);
  await theirs.goto(server.url + '/admin/settings');
  await theirs.getByText('Only administrators of the system organization change the server\'s settings.').waitFor();
  assert.deepEqual(theirs.problems, []);
  await theirs.context().close();
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
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: '1234.5' }) });
  await row.getByRole('cell', { name: 'from the billing export' }).waitFor();
  await row.getByText(adminEmail).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'kpi');
  assert.deepEqual(page.problems, []);
  await page.context().close();

  // The recent entries are the organization's, kept by the server: another user sees them, and
  // a value they enter appears on the first page without a reload.
  const made = await server.api('POST', '/api/v1/users', { email: 'kpi-op@web.example', name: 'Kim Operator', role: 'operator', password: 'kpi-operator-pw-1' }, token);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const first = await openPage(browser);
  await signIn(first);
  await first.getByRole('heading', { name: 'Overview' }).waitFor();
  await first.goto(server.url + '/kpi');
  await first.getByRole('cell', { name: 'from the billing export' }).waitFor();
  const other = await server.token('kpi-op@web.example', 'kpi-operator-pw-1');
  const entered = await server.api('POST', '/api/v1/kpis', { metric_name: 'subscribers_active', value: 1240, tags: { site: 'lagos' }, note: 'night shift count' }, other);
  assert.equal(entered.status, 201, JSON.stringify(entered.body));
  const theirs = first.getByRole('row').filter({ has: first.getByRole('cell', { name: 'night shift count' }) });
  await theirs.getByText('kpi-op@web.example').waitFor();
  assert.deepEqual(first.problems, []);
  await first.context().close();
});

// Samples of `metric` from host core-1, pushed with an api_user key: `values` one a minute up to
// now (or up to `ago` seconds before now).
async function pushSeries(token, metric, values, ago = 0) {
  if (!server.ingestKey) {
    const key = await server.api('POST', '/api/v1/api-keys', { name: 'ingest', role: 'api_user' }, token);
    assert.equal(key.status, 201, JSON.stringify(key.body));
    server.ingestKey = key.body.data.key;
  }
  const now = Math.floor(Date.now() / 1000) - ago;
  const lines = values.map((v, i) => `${metric},host=core-1 value=${v} ${now - (values.length - 1 - i) * 60}`);
  const res = await fetch(`${server.url}/api/v2/write?precision=s`, {
    method: 'POST',
    headers: { Authorization: `Token ${server.ingestKey}`, 'Content-Type': 'text/plain' },
    body: lines.join('\n') + '\n',
  });
  assert.equal(res.status, 204, await res.text());
}

test('dashboards: build one, see a panel update live, the server\'s message on a bad panel; a viewer only reads', async () => {
  const token = await server.token();
  await pushSeries(token, 'web_dash_load', [5, 7, 9, 10]);
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboards' }).click();
  await page.getByRole('heading', { name: 'Dashboards' }).waitFor();
  // The default dashboard was given on the first listing.
  await page.getByRole('link', { name: 'Network overview' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'dashboards');

  // A new one, built in place.
  await page.getByLabel('Name', { exact: true }).fill('NOC wall');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'NOC wall' }).waitFor();
  await page.getByText('This dashboard has no panels yet.').waitFor();
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('button', { name: 'Add panel' }).click();
  await page.getByLabel('Title').fill('Load now');
  await page.getByLabel('Kind').selectOption({ label: 'Stat' });
  await page.getByLabel('Metric or selector').fill('web_dash_load');
  await page.getByRole('button', { name: 'Apply' }).click();
  const stat = page.getByRole('region', { name: 'Load now' }).locator('.stat-value');
  await stat.getByText('10').waitFor();
  await page.getByRole('button', { name: 'Add panel' }).click();
  await page.getByLabel('Title').fill('Load over time');
  await page.getByLabel('Metric or selector').fill('web_dash_load');
  await page.getByRole('button', { name: 'Apply' }).click();
  const chart = page.getByRole('region', { name: 'Load over time' });
  await chart.locator('canvas').waitFor();
  // Resized by dragging its handle one column wider; moved with the keyboard.
  const resize = chart.getByRole('button', { name: /^Resize/ });
  await resize.scrollIntoViewIfNeeded();
  const box = await resize.boundingBox();
  const column = (await page.locator('.dash-grid').boundingBox()).width / 12;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + column, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await chart.getByRole('button', { name: /7 columns by 6 rows/ }).waitFor();
  const move = page.getByRole('region', { name: 'Load now' }).getByRole('button', { name: /^Move/ });
  await move.focus();
  await page.keyboard.press('ArrowRight');
  await page.getByRole('button', { name: /Move “Load now” \(column 2, row 1\)/ }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'dashboard-editing');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText(/version 2$/).waitFor();
  const id = new URL(page.url()).pathname.split('/').pop();
  const stored = await server.api('GET', `/api/v1/dashboards/${id}`, undefined, token);
  assert.equal(stored.body.data.panels.length, 2);
  assert.equal(stored.body.data.panels[1].w, 7);
  assert.equal(stored.body.data.panels[0].x, 1);

  // A new sample reaches the stat without a reload.
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  await pushSeries(token, 'web_dash_load', [42]);
  await stat.getByText('42').waitFor({ timeout: 15000 });
  assert.equal(await page.evaluate(() => window.__notReloaded), true);
  await screenshot(page, 'dashboard');

  // A bad selector: the server's message, beside the field of the panel it names.
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('region', { name: 'Load now' }).getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Metric or selector').fill('web_dash_load{host=');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').filter({ hasText: 'Panel “Load now”' }).waitFor();
  await page.getByRole('button', { name: 'Edit it' }).click();
  const selector = page.getByLabel('Metric or selector');
  assert.equal(await selector.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'dashboard-error');
  // Cancel the panel's edit, then the dashboard's: what is stored stays.
  await page.getByRole('form', { name: 'Panel “Load now”' }).getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Edit' }).waitFor();
  await stat.getByText('42').waitFor();
  assert.deepEqual(page.problems, []);

  // A viewer sees it, live, and may not edit it; at a phone's width it is one column.
  const created = await server.api(
    'POST',
    '/api/v1/users',
    { email: 'dash-viewer@web.example', name: 'Dana Viewer', role: 'viewer', password: 'viewer-password-2' },
    token,
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const viewer = await openPage(browser, { viewport: { width: 375, height: 740 } });
  await signIn(viewer, 'dash-viewer@web.example', 'viewer-password-2');
  await viewer.getByRole('heading', { name: 'Overview' }).waitFor();
  await viewer.goto(`${server.url}/dashboards/${id}?range=1h`);
  await viewer.getByRole('heading', { name: 'NOC wall' }).waitFor();
  await viewer.getByRole('region', { name: 'Load now' }).locator('.stat-value').getByText('42').waitFor();
  assert.equal(await viewer.getByRole('button', { name: 'Edit' }).count(), 0);
  assert.equal(await viewer.getByLabel('Range').inputValue(), '1h');
  const overflow = await viewer.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.equal(overflow, 0);
  assert.deepEqual(await axeViolations(viewer), []);
  await screenshot(viewer, 'dashboard-phone');
  assert.deepEqual(viewer.problems, []);
  await viewer.context().close();
  await page.context().close();
});

test('dashboards: 20 panels and a fast user stay inside the rate limit', async () => {
  const token = await server.token();
  await pushSeries(token, 'web_dash_many', [1, 2, 3]);
  const panels = [];
  for (let i = 0; i < 20; i += 1) {
    panels.push({
      id: `m${i}`,
      title: `Panel ${i + 1}`,
      kind: ['timeseries', 'stat', 'gauge', 'table', 'topn'][i % 5],
      x: (i % 4) * 3,
      y: Math.floor(i / 4) * 4,
      w: 3,
      h: 4,
      query: { selector: 'web_dash_many' },
    });
  }
  const made = await server.api('POST', '/api/v1/dashboards', { name: 'Twenty', panels }, token);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  let batches = 0;
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/query_batch')) batches += 1;
  });
  await page.goto(`${server.url}/dashboards/${made.body.data.id}`);
  await page.getByRole('heading', { name: 'Twenty' }).waitFor();
  await page.getByRole('region', { name: 'Panel 2', exact: true }).locator('.stat-value').getByText('3').waitFor();
  // Range after range, as fast as the browser goes: each is one batch request.
  for (const r of ['15m', '1h', '3h', '12h', '24h', '2d', '7d', '30d', '6h']) {
    await page.getByLabel('Range').selectOption(r);
  }
  await page.getByRole('region', { name: 'Panel 1', exact: true }).locator('canvas').waitFor();
  await page.waitForTimeout(500);
  assert.ok(batches <= 12, `${batches} batch requests`);
  await screenshot(page, 'dashboard-twenty');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the metric explorer: labels to pick from, a comparison, CSV, and the server\'s message on a bad selector', async () => {
  const token = await server.token();
  await pushSeries(token, 'web_explore_temp', [10, 11, 12, 13, 14], 86400);
  await pushSeries(token, 'web_explore_temp', [20, 21, 22, 23, 24]);
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Explore' }).click();
  await page.getByRole('heading', { name: 'Metric explorer' }).waitFor();
  await page.getByLabel('Metric or selector').fill('web_explore_temp');
  // The metric's labels are offered.
  await page.getByRole('button', { name: 'Add a label filter' }).click();
  const label = page.getByLabel('Label 1');
  await label.locator('option', { hasText: 'host' }).waitFor({ state: 'attached' });
  await label.selectOption('host');
  await page.getByLabel('Value 1').fill('core-1');
  await page.getByLabel('Range').selectOption('1h');
  await page.getByLabel('Compare with').selectOption('1d');
  await page.getByRole('button', { name: 'Draw' }).click();
  await page.getByRole('heading', { name: 'web_explore_temp{host="core-1"}' }).waitFor();
  await page.locator('.explore canvas').first().waitFor();
  await page.getByRole('cell', { name: 'core-1', exact: true }).waitFor();
  await page.getByRole('cell', { name: 'core-1 (a day earlier)' }).waitFor();
  // The query is in the URL.
  assert.match(page.url(), /metric=web_explore_temp/);
  assert.match(decodeURIComponent(page.url()), /label=host=core-1/);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'time,core-1,core-1 (a day earlier)');
  assert.ok(lines.length >= 2, csv);
  assert.match(lines[lines.length - 1], /,24,/);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'explore');

  // A selector that does not parse: the server's message beside the field.
  await page.getByLabel('Metric or selector').fill('web_explore_temp{host=');
  await page.getByRole('button', { name: 'Draw' }).click();
  const field = page.getByLabel('Metric or selector');
  await page.locator('#ex-metric-error').waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'explore-error');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('admin: an API key is shown once, works, is revoked; the audit log records it', async () => {
  const page = await openPage(browser);
  page.on('dialog', (d) => d.accept());
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'API keys' }).click();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  // A bad expiry: the server's message beside the field.
  await page.getByLabel('Name', { exact: true }).fill('billing export');
  const days = page.getByLabel('Expires in days (empty: the server\'s default)');
  await days.fill('99999');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.locator('#' + (await days.getAttribute('id')) + '-error').waitFor();
  assert.equal(await days.getAttribute('aria-invalid'), 'true');
  await days.fill('30');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByLabel('The new API key');
  await shown.waitFor();
  const key = (await shown.innerText()).trim();
  assert.ok(key.length >= 20, key);
  // It works, as what it is (an api_user reads metrics).
  assert.equal((await server.api('GET', '/api/v1/series?match[]=up', undefined, key)).status, 200);
  const row = page.getByRole('row').filter({ hasText: 'billing export' });
  await row.waitFor();
  const prefix = (await row.locator('code').innerText()).replace('…', '');
  assert.ok(key.includes(prefix), `${key} holds ${prefix}`);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'api-keys-secret');
  // Once: after "I have saved it" and a reload, the secret is nowhere on the page.
  await page.getByRole('button', { name: 'I have saved it' }).click();
  await page.reload();
  await row.waitFor();
  assert.equal((await page.content()).includes(key), false);
  await row.getByRole('button', { name: /Revoke/ }).click();
  await page.getByRole('status').filter({ hasText: 'billing export revoked' }).waitFor();
  await row.getByText(/revoked/).waitFor();
  assert.equal((await server.api('GET', '/api/v1/series?match[]=up', undefined, key)).status, 401);

  // The audit log has the creation and the revocation.
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await page.getByLabel('Action starts with').fill('DELETE /api/v1/api-keys');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('cell', { name: /^api-keys\/\d+$/ }).first().waitFor();
  assert.match(page.url(), /action=DELETE/);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'audit');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('notifications: a webhook channel with the server\'s message, "send test" with the remote\'s answer, the delivery log', async () => {
  // A receiver on this machine: the first request gets 500, the rest 200.
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = received.length === 1 ? 500 : 200;
      res.end(received.length === 1 ? 'busy' : 'ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;
  try {
    const page = await openPage(browser);
    await signIn(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notification channels' }).waitFor();
    const form = page.getByRole('form', { name: 'Add a channel' });
    await form.getByLabel('Name').fill('NOC hook');
    await form.getByLabel('Kind').selectOption({ label: 'Webhook' });
    const url = form.getByLabel('URL');
    await url.fill('ftp://127.0.0.1/hook');
    await form.getByRole('button', { name: 'Add channel' }).click();
    await page.locator('#ch-url-error').waitFor();
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'channels-error');
    await url.fill(hook);
    await form.getByRole('button', { name: 'Add channel' }).click();
    const row = page.getByRole('row').filter({ hasText: 'NOC hook' });
    await row.waitFor();
    await row.getByRole('button', { name: /Send test/ }).click();
    await row.getByText(/Not delivered \(500\)/).waitFor();
    await row.getByRole('button', { name: /Send test/ }).click();
    await row.getByText(/Delivered \(200\)/).waitFor();
    assert.equal(received.length, 2);
    assert.ok(received[1].headers['x-netpulse-delivery'], JSON.stringify(received[1].headers));
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'channels');

    // An alert through a policy to it: delivered, in the log with its attempt.
    const token = await server.token();
    const channels = await server.api('GET', '/api/v1/notification-channels', undefined, token);
    const channel = channels.body.data.find((c) => c.name === 'NOC hook');
    const policy = await server.api(
      'POST',
      '/api/v1/notification-policies',
      // Continuing: later tests' policies still get their alerts.
      { name: 'to the hook', continue: true, group_wait_s: 0, modes: { critical: 'immediate' }, targets: [{ channel_id: channel.id }] },
      token,
    );
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    await server.raiseAlert(token, 'web_notify_temp', 'critical');
    await page.getByRole('navigation', { name: 'Notifications' }).getByRole('link', { name: 'Delivery log' }).click();
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    const entry = page.getByRole('row').filter({ hasText: 'web_notify_temp high' }).first();
    for (let i = 0; i < 40 && !(await entry.getByRole('cell', { name: 'delivered', exact: true }).count()); i++) {
      await page.waitForTimeout(250);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    await entry.getByRole('cell', { name: 'delivered', exact: true }).waitFor();
    await entry.getByRole('button', { name: /Attempts/ }).click();
    await page.locator('ol.attempts li').filter({ hasText: '(200)' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'delivery-log');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  } finally {
    receiver.close();
  }
});

test('on call and policies: a rotation with an override, a policy paging it with escalation; the server\'s messages beside the fields', async () => {
  const admin = await server.token();
  const people = {};
  for (const [name, email] of [
    ['Ana Oncall', 'ana@noc.example'],
    ['Ben Oncall', 'ben@noc.example'],
  ]) {
    const r = await server.api('POST', '/api/v1/users', { email, name, role: 'operator', password: 'oncall-password-1' }, admin);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    people[name] = r.body.data.id;
  }
  const channel = await server.api(
    'POST',
    '/api/v1/notification-channels',
    { name: 'On-call hook', kind: 'webhook', settings: { url: 'http://127.0.0.1:9/noc' } },
    admin,
  );
  assert.equal(channel.status, 201, JSON.stringify(channel.body));

  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/notifications/oncall');
  await page.getByText('No schedules yet.', { exact: false }).waitFor();
  await page.getByRole('link', { name: 'Add a schedule' }).click();
  await page.getByLabel('Name', { exact: true }).fill('NOC');
  await page.getByLabel('Time zone of the handovers').selectOption('Europe/Berlin');
  const rotation = page.getByRole('group', { name: 'People, in turn' });
  for (const name of ['Ben Oncall', 'Ana Oncall']) {
    await rotation.getByRole('combobox').selectOption({ label: name });
    await rotation.getByRole('button', { name: 'Add to the rotation' }).click();
  }
  // Ana first: moved up.
  await rotation.getByRole('button', { name: 'Up Ana Oncall' }).click();
  assert.match(await rotation.locator('ol li').first().innerText(), /Ana Oncall/);
  // A Monday handover starting on a Tuesday: the server's message beside the date.
  await page.getByLabel('Handover day').selectOption('mon');
  await page.getByLabel('First handover (date)').fill('2026-03-03');
  await page.getByRole('button', { name: 'Add schedule' }).click();
  const startError = page.locator('#oc-start-error');
  await startError.waitFor();
  assert.match(await startError.innerText(), /mon/i);
  assert.equal(await page.getByLabel('First handover (date)').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('First handover (date)').fill('2026-03-02');
  // Ben covers from an hour ago until tomorrow.
  await page.getByRole('button', { name: 'Add an override' }).click();
  const cover = page.getByRole('group', { name: 'Override 1' });
  await cover.getByLabel('Who').selectOption({ label: 'Ben Oncall' });
  const local = (ms) => {
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  // The browser runs in Europe/Berlin (support/browser.mjs): the inputs are its local times.
  const inBerlin = (ms) => local(ms + (new Date(ms).getTimezoneOffset() + berlinOffsetMinutes(ms)) * 60000);
  await cover.getByLabel('From').fill(inBerlin(Date.now() - 3600000));
  await cover.getByLabel('Until').fill(inBerlin(Date.now() + 86400000));
  await cover.getByLabel('Why').fill('covering Ana');
  await page.getByRole('button', { name: 'Add schedule' }).click();
  await page.getByRole('heading', { name: 'On-call schedules' }).waitFor();
  const row = page.locator('table.list tbody tr', { hasText: 'NOC' });
  // On call now: Ben, by the override (the rotation would say Ana or Ben by the week).
  await row.locator('td').nth(1).getByText('Ben Oncall').waitFor();
  assert.match(await row.locator('td').nth(1).innerText(), /until/);
  assert.match(await row.innerText(), /weekly on Mondays at 09:00 \(Europe\/Berlin\) from 2026-03-02: Ana Oncall → Ben Oncall/);
  const schedules = await server.api('GET', '/api/v1/oncall-schedules', undefined, admin);
  const schedule = schedules.body.data[0];
  assert.deepEqual(schedule.rotation.users, [people['Ana Oncall'], people['Ben Oncall']]);
  assert.equal(schedule.overrides[0].user_id, people['Ben Oncall']);
  assert.equal(schedule.overrides[0].reason, 'covering Ana');
  const current = await server.api('GET', `/api/v1/oncall-schedules/${schedule.id}/current`, undefined, admin);
  assert.equal(current.body.data.user_id, people['Ben Oncall']);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'oncall');

  // A policy: critical alerts to the webhook and whoever is on call; Ana after 10 minutes.
  await page.getByRole('link', { name: 'Policies' }).click();
  await page.getByRole('heading', { name: 'Notification policies' }).waitFor();
  await page.getByRole('link', { name: 'Add a policy' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Core critical');
  await page.getByLabel('Position (lower goes first)').fill('10');
  await page.getByRole('group', { name: /Severities/ }).getByLabel('critical').check();
  await page.getByLabel('Labels (one a line', { exact: false }).fill('site=ber1\nifName=~xe-.*');
  const sendTo = page.getByRole('group', { name: 'Send to' });
  await sendTo.getByLabel('On-call hook (webhook)').check();
  await sendTo.getByLabel('NOC', { exact: true }).check();
  await page.getByRole('button', { name: 'Add a step' }).click();
  const after = page.getByLabel('Step 1: after (minutes)');
  // Half a minute is under the server's 60 s: its message beside the step.
  await after.fill('0.5');
  await page.getByRole('group', { name: 'Step 1: tell' }).getByLabel('Ana Oncall').check();
  await page.getByRole('button', { name: 'Add policy' }).click();
  await page.locator('#pol-esc-0-error').waitFor();
  assert.match(await page.locator('#pol-esc-0-error').innerText(), /60/);
  await after.fill('10');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'policy-editor');
  await page.getByRole('button', { name: 'Add policy' }).click();
  await page.getByRole('heading', { name: 'Notification policies' }).waitFor();
  const core = page.locator('li.policy', { hasText: 'Core critical' });
  await core.getByText('On-call hook (webhook), on call: NOC').waitFor();
  await core.getByText('after 10 min: Ana Oncall').waitFor();
  assert.match(await core.innerText(), /critical · site=ber1, ifName=~xe-\.\*/);
  const stored = (await server.api('GET', '/api/v1/notification-policies', undefined, admin)).body.data.find((p) => p.name === 'Core critical');
  assert.deepEqual(stored.match.severity, ['critical']);
  assert.deepEqual(stored.match.labels, { site: 'ber1', ifName: { op: '=~', value: 'xe-.*' } });
  assert.deepEqual(stored.targets, [{ channel_id: channel.body.data.id }, { schedule_id: schedule.id }]);
  assert.deepEqual(stored.escalation, [{ after_s: 600, targets: [{ user_id: people['Ana Oncall'] }] }]);

  // A catch-all right after it (earlier tests' policies come later), moved above it; then
  // disabled.
  await page.getByRole('link', { name: 'Add a policy' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Everything else');
  await page.getByLabel('Position (lower goes first)').fill('20');
  await page.getByRole('button', { name: 'Add policy' }).click();
  await page.locator('li.policy', { hasText: 'Everything else' }).getByText('every alert').waitFor();
  await page.getByRole('button', { name: 'Move up Everything else' }).click();
  await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('li.policy h2 a')].map((a) => a.textContent);
    return names.indexOf('Everything else') >= 0 && names.indexOf('Everything else') < names.indexOf('Core critical');
  });
  await page.getByRole('button', { name: 'Disable Everything else' }).click();
  await page.locator('li.policy', { hasText: 'Everything else' }).locator('.badge', { hasText: 'disabled' }).waitFor();
  const order = (await server.api('GET', '/api/v1/notification-policies', undefined, admin)).body.data;
  const names = order.map((p) => p.name);
  assert.equal(names.indexOf('Everything else') + 1, names.indexOf('Core critical'), names.join(', '));
  assert.equal(order.find((p) => p.name === 'Everything else').enabled, false);
  // The schedule a policy pages cannot be deleted: the server says which policy.
  await page.getByRole('link', { name: 'On call' }).click();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete NOC' }).click();
  const refused = page.locator('main p[role="status"]');
  await refused.waitFor();
  assert.match(await refused.innerText(), /Core critical/);
  assert.deepEqual(await axeViolations(page), []);
  await page.goto(server.url + '/notifications/policies');
  await page.locator('li.policy').nth(1).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'policies');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

// Europe/Berlin's offset from UTC in minutes at `ms` (CET +60, CEST +120), from Intl.
function berlinOffsetMinutes(ms) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', timeZoneName: 'shortOffset' })
    .formatToParts(new Date(ms))
    .find((p) => p.type === 'timeZoneName').value; // "GMT+1"
  const m = /GMT([+-]\d+)(?::(\d+))?/.exec(parts);
  return m ? Number(m[1]) * 60 + Math.sign(Number(m[1])) * Number(m[2] || 0) : 0;
}

test('silences and maintenance: silence an alert from its page, end it; plan maintenance, the server\'s message on a bad cron; incidents', async () => {
  const token = await server.token();
  await server.raiseAlert(token, 'web_silence_temp', 'warning');
  let alertId = null;
  for (let i = 0; i < 40 && !alertId; i++) {
    const r = await server.api('GET', '/api/v1/alerts?open=true&per_page=500', undefined, token);
    const a = r.body.data.find((x) => x.rule_name === 'web_silence_temp high');
    if (a) alertId = a.id;
    else await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(alertId, 'the alert fired');
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(`${server.url}/alerts/${alertId}`);
  await page.getByRole('link', { name: 'Silence alerts like this…' }).click();
  await page.getByRole('heading', { name: 'Silences' }).waitFor();
  // The rule is chosen already.
  const rule = page.getByLabel('Rule');
  await rule.locator('option', { hasText: 'web_silence_temp high' }).waitFor({ state: 'attached' });
  assert.equal(await rule.locator('option:checked').innerText(), 'web_silence_temp high');
  // A label line that is not one: the message beside the field.
  await page.getByLabel(/^Labels/).fill('just words');
  await page.getByLabel('Reason').fill('fibre work on the uplink');
  await page.getByRole('button', { name: 'Silence', exact: true }).click();
  await page.locator('#si-matchers-error').waitFor();
  await page.getByLabel(/^Labels/).fill('host=core-1');
  await page.getByRole('button', { name: 'Silence', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Silenced until' }).waitFor();
  const row = page.getByRole('row').filter({ hasText: 'fibre work on the uplink' });
  await row.waitFor();
  let silenced = false;
  for (let i = 0; i < 40 && !silenced; i++) {
    const a = await server.api('GET', `/api/v1/alerts/${alertId}`, undefined, token);
    silenced = a.body.data.silenced === true;
    if (!silenced) await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(silenced, 'the alert is marked silenced');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'silences');
  await row.getByRole('button', { name: /End/ }).click();
  await page.getByRole('status').filter({ hasText: 'Silence ended' }).waitFor();
  await page.getByText('No silences in force.').waitFor();

  // Maintenance: a bad cron gets the server's message; a weekly window is planned.
  await page.getByRole('navigation', { name: 'Alert pages' }).getByRole('link', { name: 'Maintenance' }).click();
  await page.getByRole('heading', { name: 'Maintenance windows' }).waitFor();
  await page.getByLabel('Name').fill('Core upgrade');
  await page.getByLabel('Repeats').selectOption('cron');
  const cron = page.getByLabel(/^Cron/);
  await cron.fill('0 25 * * *');
  await page.getByLabel('Device tags (comma-separated)').fill('core');
  await page.getByRole('button', { name: 'Plan' }).click();
  await page.locator('#mw-cron-error').waitFor();
  assert.equal(await cron.getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Repeats').selectOption('weekly');
  await page.getByLabel('Sunday').check();
  await page.getByRole('button', { name: 'Plan' }).click();
  await page.getByRole('status').filter({ hasText: 'Core upgrade planned' }).waitFor();
  const w = page.getByRole('row').filter({ hasText: 'Core upgrade' });
  await w.getByText(/Sunday at 02:00/).waitFor();
  await w.getByText(/next /).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'maintenance');

  await page.getByRole('navigation', { name: 'Alert pages' }).getByRole('link', { name: 'Incidents' }).click();
  await page.getByRole('heading', { name: 'Incidents' }).waitFor();
  await page.getByText('No open incidents.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('add a device with SNMP: "Test SNMP" asks a real agent (a wrong community, then the right one; v3), the server\'s message beside the field, then edit it', async () => {
  const agent = await new Snmpd().start();
  try {
    const page = await openPage(browser);
    await signIn(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('link', { name: 'Add a device' }).click();
    await page.getByRole('heading', { name: 'Add a device' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('agent-1');
    await page.getByLabel('Address (IP or host name)').fill(agent.address);
    await page.getByLabel('Version').selectOption('2c');
    await page.getByLabel('Port').fill(String(agent.port));
    await page.getByLabel('Community').fill('not-the-community');
    await page.getByRole('button', { name: 'Test SNMP' }).click();
    await page.getByText(/No answer with these credentials/).waitFor({ timeout: 20000 });
    await page.getByLabel('Community').fill('public');
    await page.getByRole('button', { name: 'Test SNMP' }).click();
    await page.getByText('The agent answers: web-test-agent').waitFor({ timeout: 20000 });
    // v3 with the agent's user.
    await page.getByLabel('Version').selectOption('3');
    await page.getByLabel('User').fill('shaaes');
    await page.getByLabel('Authentication', { exact: true }).selectOption('SHA');
    await page.getByLabel('Authentication password').fill('shaaes-auth-pw');
    await page.getByLabel('Privacy', { exact: true }).selectOption('AES');
    await page.getByLabel('Privacy password').fill('shaaes-priv-pw');
    await page.getByRole('button', { name: 'Test SNMP' }).click();
    await page.getByText('The agent answers: web-test-agent').waitFor({ timeout: 20000 });
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'device-form');
    // A password too short for v3: the server's message beside it.
    await page.getByLabel('Privacy password').fill('short');
    await page.getByLabel('Polled (enabled)').uncheck();
    await page.getByRole('button', { name: 'Add device' }).click();
    const priv = page.getByLabel('Privacy password');
    await page.locator('#dv-priv_password-error').waitFor();
    assert.equal(await priv.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'device-form-error');
    await priv.fill('shaaes-priv-pw');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByRole('heading', { name: /agent-1/ }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop();
    const stored = await server.api('GET', `/api/v1/devices/${id}`, undefined, await server.token());
    assert.equal(stored.body.data.snmp.version, '3');
    assert.equal(stored.body.data.snmp.user, 'shaaes');
    assert.equal(stored.body.data.snmp.port, agent.port);
    assert.equal(JSON.stringify(stored.body).includes('shaaes-priv-pw'), false);
    // Edit: the secrets are kept when left empty.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit agent-1' }).waitFor();
    await page.getByLabel('Location').fill('rack 7');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: /agent-1/ }).waitFor();
    const edited = await server.api('GET', `/api/v1/devices/${id}`, undefined, await server.token());
    assert.equal(edited.body.data.location, 'rack 7');
    assert.equal(edited.body.data.snmp.user, 'shaaes');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  } finally {
    agent.stop();
  }
});

test('discovery: a scan with a real agent, one host rejected, one added with its SNMP set; a range too wide refused', async () => {
  const agent = await new Snmpd('127.0.0.22').start();
  try {
    const admin = await server.token();
    const page = await openPage(browser);
    await signIn(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(server.url + '/devices');
    await page.getByRole('link', { name: 'Discover devices' }).click();
    await page.getByRole('heading', { name: 'Discovery' }).waitFor();
    // An SNMP set without its community: the server's message on that set.
    await page.getByLabel('Range (CIDR', { exact: false }).fill('127.0.0.20/30');
    await page.getByRole('button', { name: 'Start the scan' }).click();
    await page.locator('#disc-0-error').waitFor();
    assert.match(await page.locator('#disc-0-error').innerText(), /community/i);
    const set1 = page.getByRole('group', { name: 'SNMP set 1' });
    await set1.getByLabel('Port').fill(String(agent.port));
    await set1.getByLabel('Community').fill('public');
    // A /8 is past the bound: the server's message beside the range.
    await page.getByLabel('Range (CIDR', { exact: false }).fill('10.0.0.0/8');
    await page.getByRole('button', { name: 'Start the scan' }).click();
    await page.locator('#disc-cidr-error').waitFor();
    assert.match(await page.locator('#disc-cidr-error').innerText(), /20/);
    // 127.0.0.21 and .22 (the /30's network and broadcast addresses are skipped); the agent on .22.
    await page.getByLabel('Range (CIDR', { exact: false }).fill('127.0.0.20/30');
    await page.getByLabel('Timeout per address (ms)').fill('1500');
    await page.getByRole('button', { name: 'Start the scan' }).click();
    await page.getByRole('heading', { name: 'Scan of 127.0.0.20/30' }).waitFor();
    await page.getByText(/^Done ·/).waitFor({ timeout: 30000 });
    const row = (address) => page.locator('table.list tbody tr', { has: page.locator('code', { hasText: new RegExp(`^${address.replace(/\./g, '\\.')}$`) }) });
    await row('127.0.0.22').getByText('web-test-agent').first().waitFor();
    await row('127.0.0.21').getByText('no SNMP answer').waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'discovery');

    // Reject .21: gone from the list, kept so over a reload, shown on demand.
    await page.getByLabel('Select 127.0.0.21', { exact: true }).check();
    await page.getByRole('button', { name: 'Reject the selected' }).click();
    assert.equal(await row('127.0.0.21').count(), 0);
    await page.reload();
    await row('127.0.0.22').waitFor();
    assert.equal(await row('127.0.0.21').count(), 0);
    await page.getByRole('button', { name: 'Show the 1 rejected' }).click();
    await row('127.0.0.21').getByText('rejected').waitFor();

    // The reload forgot the secrets (memory only): adding .22 asks for its SNMP set's community.
    const secrets = page.locator('details', { hasText: 'SNMP secrets for the hosts to add' });
    await secrets.getByLabel('Port').fill(String(agent.port));
    await secrets.getByLabel('Community').fill('public');
    await page.getByLabel('Select 127.0.0.22', { exact: true }).check();
    await page.getByRole('button', { name: 'Add the selected devices' }).click();
    await page.getByRole('status').filter({ hasText: '1 device added.' }).waitFor();
    await row('127.0.0.22').getByRole('link', { name: 'in the inventory' }).waitFor();
    const devices = await server.api('GET', '/api/v1/devices?q=127.0.0.22', undefined, admin);
    assert.equal(devices.body.data.length, 1);
    const d = devices.body.data[0];
    assert.equal(d.name, 'web-test-agent');
    assert.equal(d.snmp.version, '2c');
    assert.equal(d.snmp.port, agent.port);
    assert.equal(d.location, 'rack 7, Lagos POP');
    // The credentials work: the server polls it over SNMP.
    const polled = await server.api('POST', `/api/v1/devices/${d.id}/poll`, {}, admin);
    assert.equal(polled.status, 200, JSON.stringify(polled.body));
    assert.equal(polled.body.data.snmp_outcome.ok, true, JSON.stringify(polled.body.data.snmp_outcome));

    // Its page charts what SNMP brought: a second poll makes interface rates; the agent's host
    // resources give CPU, memory and storage.
    await new Promise((r) => setTimeout(r, 1500));
    const again = await server.api('POST', `/api/v1/devices/${d.id}/poll`, {}, admin);
    assert.equal(again.status, 200);
    // The rates are in the store once the poll's samples are written.
    const end = Math.floor(Date.now() / 1000) + 60;
    let rates = null;
    for (let i = 0; i < 40; i++) {
      rates = await server.api('GET', `/api/v1/query_range?query=${encodeURIComponent(`ifInBps{device_id="${d.id}"}`)}&start=${end - 3600}&end=${end}`, undefined, admin);
      if (rates.status === 200 && rates.body.data.series.length > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(rates.body.data.series.length > 0, JSON.stringify(rates.body));
    await page.goto(`${server.url}/devices/${d.id}`);
    await page.getByRole('heading', { name: 'Traffic, last 24 hours, all interfaces' }).waitFor();
    await page.getByRole('figure', { name: 'Traffic' }).locator('canvas').first().waitFor();
    await page.getByRole('figure', { name: 'CPU and memory' }).locator('canvas').first().waitFor();
    await page.getByRole('figure', { name: 'Storage used' }).locator('canvas').first().waitFor();
    // One interface's traffic, chosen in the table.
    await page.getByRole('button', { name: 'Chart lo', exact: true }).click();
    await page.getByRole('heading', { name: 'Traffic, last 24 hours: lo' }).waitFor();
    await page.getByRole('figure', { name: 'Traffic' }).locator('canvas').first().waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'device-charts');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  } finally {
    await agent.stop();
  }
});

test('CSV import: every issue by line and column, nothing stored; mended, all imported', async () => {
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/devices');
  await page.getByRole('link', { name: 'Import from CSV' }).click();
  await page.getByRole('heading', { name: 'Import devices' }).waitFor();
  const bad =
    'name,address,type,parents,enabled\nimp-core,127.0.7.1,router,,false\nimp-cpe,127.0.7.2,cpe,127.0.7.9,false\nimp-bad,not an address,cpe,,false\n';
  await page.getByLabel('Or paste it').fill(bad);
  await page.getByRole('button', { name: 'Import' }).click();
  const issues = page.getByRole('table', { name: 'Issues by line and column' });
  await issues.waitFor();
  // Line 3 names a parent nobody has; line 4's address is not one.
  await issues.getByRole('row').filter({ hasText: 'no device has the address 127.0.7.9' }).getByRole('cell', { name: '3', exact: true }).waitFor();
  await issues.getByRole('row').filter({ hasText: 'must be an IPv4 or IPv6 address' }).getByRole('cell', { name: '4', exact: true }).waitFor();
  const token = await server.token();
  let listed = await server.api('GET', '/api/v1/devices?q=imp-', undefined, token);
  assert.equal(listed.body.pagination.total, 0, 'nothing stored');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'import-issues');
  await page.getByLabel('Or paste it').fill('name,address,type,parents,enabled\nimp-core,127.0.7.1,router,,false\nimp-cpe,127.0.7.2,cpe,127.0.7.1,false\n');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('status').filter({ hasText: '2 devices imported' }).waitFor();
  listed = await server.api('GET', '/api/v1/devices?q=imp-&sort=name', undefined, token);
  assert.equal(listed.body.pagination.total, 2);
  const cpe = listed.body.data.find((d) => d.name === 'imp-cpe');
  const core = listed.body.data.find((d) => d.name === 'imp-core');
  assert.deepEqual(cpe.parents, [core.id]);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('alert rules: a new rule backtested on the chart before it is saved; the server\'s message beside the field', async () => {
  const token = await server.token();
  await pushSeries(token, 'web_rule_temp', [50, 95, 96, 40, 97]);
  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(server.url + '/alerts');
  await page.getByRole('navigation', { name: 'Alert pages' }).getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('heading', { name: 'Alert rules' }).waitFor();
  await page.getByRole('link', { name: 'New rule' }).click();
  await page.getByRole('heading', { name: 'New alert rule' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Temperature high');
  const selector = page.getByLabel('Series (selector)');
  await selector.fill('web_rule_temp{host=');
  await page.getByLabel('Value', { exact: true }).fill('90');
  await page.getByRole('button', { name: 'Backtest the last 24 hours' }).click();
  await page.locator('#ru-selector-error').waitFor();
  assert.equal(await selector.getAttribute('aria-invalid'), 'true');
  await selector.fill('web_rule_temp');
  await page.getByRole('button', { name: 'Backtest the last 24 hours' }).click();
  await page.getByRole('heading', { name: /Backtest: 2 would-be firing/ }).waitFor();
  await page.getByRole('figure', { name: 'Backtest' }).locator('canvas').waitFor();
  assert.equal(await page.getByRole('table', { name: 'Would-be transitions' }).getByRole('cell', { name: 'firing', exact: true }).count(), 2);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'rule-backtest');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('heading', { name: 'Temperature high' }).waitFor();
  const rules = await server.api('GET', '/api/v1/alert-rules?per_page=500', undefined, token);
  const rule = rules.body.data.find((r) => r.name === 'Temperature high');
  assert.ok(rule, 'saved');
  assert.equal(rule.selector, 'web_rule_temp');
  assert.equal(rule.condition.op, '>');
  assert.equal(rule.condition.value, 90);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the inbox: an alert sent to an in-app channel shows up in the header live, opens the alert, is marked read', async () => {
  const token = await server.token();
  const channel = await server.api('POST', '/api/v1/notification-channels', { name: 'Admins inbox', kind: 'in_app', settings: { roles: ['admin'] } }, token);
  assert.equal(channel.status, 201, JSON.stringify(channel.body));
  const policy = await server.api(
    'POST',
    '/api/v1/notification-policies',
    // First in the routing order and continuing: the other tests' policies still see their alerts.
    { name: 'Inbox everything', position: 0, continue: true, group_wait_s: 0, modes: { critical: 'immediate' }, match: { labels: { host: 'inbox-1' } }, targets: [{ channel_id: channel.body.data.id }] },
    token,
  );
  assert.equal(policy.status, 201, JSON.stringify(policy.body));
  // Whatever earlier tests left unread goes first.
  await server.api('POST', '/api/v1/me/notifications/read-all', {}, token);

  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const inbox = page.locator('details.inbox > summary');

  // A critical alert from host inbox-1: the policy puts it in the admins' inboxes; the header
  // says so without a reload.
  const rule = await server.api('POST', '/api/v1/alert-rules', { name: 'inbox temp high', kind: 'threshold', selector: 'inbox_temp', condition: { op: '>', value: 90 }, for_s: 0, severity: 'critical' }, token);
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  const key = await server.api('POST', '/api/v1/api-keys', { name: 'inbox-ingest', role: 'api_user' }, token);
  const now = Math.floor(Date.now() / 1000);
  const wrote = await fetch(`${server.url}/api/v2/write?precision=s`, {
    method: 'POST',
    headers: { Authorization: `Token ${key.body.data.key}`, 'Content-Type': 'text/plain' },
    body: `inbox_temp,host=inbox-1 value=97 ${now - 1}\n`,
  });
  assert.equal(wrote.status, 204);
  // The count says so without a reload (other tests' notices, a failing channel's, may be there
  // too: the earlier ones were marked read above, new ones can come).
  await page.waitForFunction(() => /^Inbox, [1-9]\d* unread$/.test(document.querySelector('details.inbox > summary')?.getAttribute('aria-label') || ''), undefined, { timeout: 30000 });
  await inbox.click();
  const item = page.locator('.inbox-menu li', { hasText: 'inbox temp high' });
  await item.waitFor({ timeout: 30000 });
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'inbox');
  await item.getByRole('link').click();
  await page.waitForURL(/\/alerts\/\d+$/);
  await page.getByRole('heading', { name: /inbox temp high/ }).waitFor();
  // Opened, it is read: no longer among the unread.
  let unread;
  for (let i = 0; i < 20; i++) {
    unread = await server.api('GET', '/api/v1/me/notifications?per_page=100', undefined, token);
    if (!JSON.stringify(unread.body.data).includes('inbox temp high')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(JSON.stringify(unread.body.data).includes('inbox temp high'), false);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
