// The topology map in a real browser against a network that really fails (issue 16: "watch an
// incident with root cause on the map"). Run as a ctest entry of its own (browser.netns): it makes
// a network namespace (support/netns.mjs), which needs root; where that is impossible it says why
// and exits 77, which ctest shows as skipped — never as passed.
//
// A core, 3 distribution switches and 4 CPE behind each, all polled every second over ICMP. The
// map shows them live; the core's link goes down: the core turns down and the 15 behind it
// unreachable on the open page without a reload, the incident appears beside the map, and chosen,
// it rings the core as the root cause with the 15 outlined as its impact. The link comes back and
// the map is green again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsTopology, netnsUnavailable } from './support/netns.mjs';

const unavailable = netnsUnavailable();
if (unavailable) {
  console.log(`excluded [netns]: the topology map test: ${unavailable}`);
  process.exit(77);
}

const { Server, adminEmail, adminPassword } = await import('./support/server.mjs');
const { launch, openPage, screenshot, axeViolations } = await import('./support/browser.mjs');

let net;
let server;
let browser;
let token;
const ids = { core: 0, dists: [], cpe: [], lone: 0 };

async function eventually(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function statuses() {
  const r = await server.api('GET', '/api/v1/devices?per_page=500', undefined, token);
  assert.equal(r.status, 200);
  return new Map(r.body.data.map((d) => [d.id, d.status]));
}

async function allAre(list, status) {
  const now = await statuses();
  return list.every((id) => now.get(id) === status);
}

before(async () => {
  net = new NetnsTopology({ dists: 3, cpe: 4 }).create();
  server = await new Server({
    NETPULSE_NETWORK_OUTBOUND_ALLOW: '127.0.0.0/8',
    NETPULSE_POLLERS_DOWN_AFTER: '2',
    NETPULSE_POLLERS_ICMP_TIMEOUT_MS: '300',
    NETPULSE_POLLERS_ICMP_ECHO_INTERVAL_MS: '50',
  }).start();
  browser = await launch();
  token = await server.token();
  const create = async (body) => {
    const r = await server.api('POST', '/api/v1/devices', { poll_interval_s: 1, ...body }, token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data.id;
  };
  ids.core = await create({ name: 'core', address: net.coreIp, type: 'router' });
  for (let d = 0; d < net.distIps.length; d++) {
    ids.dists.push(await create({ name: `dist-${d}`, address: net.distIps[d], type: 'switch', parents: [ids.core] }));
    for (let c = 0; c < net.cpeIps[d].length; c++) {
      ids.cpe.push(
        await create({ name: `cpe-${d}-${c}`, address: net.cpeIps[d][c], type: 'cpe', parents: [ids.dists[d]] }),
      );
    }
  }
  // One device linked to nothing, not polled: it sits in the grid under the circle.
  ids.lone = await create({ name: 'lab-box', address: '127.0.0.9', type: 'server', enabled: false });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
  net?.dispose();
});

async function signIn(page) {
  await page.goto(server.url + '/');
  await page.getByLabel('Email').fill(adminEmail);
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

const node = (page, id) => page.locator(`svg.map a.node[data-id="${id}"]`);

// Waits for the map to show `count` devices of `status`; on a timeout the error says what the map
// and the API showed.
async function mapShows(page, status, count) {
  try {
    await page.waitForFunction(
      ([s, n]) => document.querySelectorAll(`svg.map a.node.status-${s}`).length === n,
      [status, count],
      { timeout: 30000 },
    );
  } catch (e) {
    const onMap = await page.evaluate(() =>
      [...document.querySelectorAll('svg.map a.node')].map((a) => `${a.dataset.id}:${a.getAttribute('class')}`),
    );
    const api = [...(await statuses()).entries()].map(([id, s]) => `${id}:${s}`);
    throw new Error(`the map did not show ${count} ${status}: map ${onMap.join(', ')}; API ${api.join(', ')}`, {
      cause: e,
    });
  }
}

test('the map shows a core failure live: the root ringed, the 15 behind it outlined', async () => {
  const behind = [...ids.dists, ...ids.cpe];
  const linked = [ids.core, ...behind];
  await eventually('every device up', () => allAre(linked, 'up'));

  const page = await openPage(browser);
  await signIn(page);
  await page.getByRole('link', { name: 'Map', exact: true }).click();
  await page.getByRole('heading', { name: 'Topology map' }).waitFor();
  await node(page, ids.core).waitFor();
  assert.equal(await page.locator('svg.map a.node').count(), 17);
  assert.match(await page.locator('.map-legend .status-up').innerText(), /up\s*16/i);
  assert.match(await page.locator('.map-legend .status-unknown').innerText(), /unknown\s*1/i);
  await page.getByText('No open incidents.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'map-light');

  // Zoom: the buttons spread the devices apart (labels keep their size).
  const gap = async () => {
    const [a, b] = await Promise.all(
      [ids.core, ids.dists[0]].map((id) => node(page, id).locator('circle').last().boundingBox()),
    );
    return Math.hypot(a.x - b.x, a.y - b.y);
  };
  const before = await gap();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  assert.ok((await gap()) > before * 1.5, 'zooming in spreads the devices');
  await page.getByRole('button', { name: 'Fit' }).click();

  // Search by name: one match, marked.
  await page.getByLabel('Find a device').fill('cpe-2-3');
  await page.getByText('1 of 1').waitFor();
  assert.match(await node(page, ids.cpe[11]).getAttribute('class'), /\bhit\b/);
  await page.getByLabel('Find a device').fill('');
  // The search centred its match; the whole map again (only what is on screen is drawn).
  await page.getByRole('button', { name: 'Fit' }).click();

  // The core's link goes down; the page is not reloaded.
  net.setCoreLink(false);
  await mapShows(page, 'down', 1);
  await mapShows(page, 'unreachable', 15);
  assert.match(await node(page, ids.core).getAttribute('class'), /\bstatus-down\b/);
  // The incident appears beside the map (the feed's incidents topic).
  const incidentButton = page.locator('.map-incidents button', { hasText: 'core' });
  await incidentButton.first().waitFor({ timeout: 30000 });
  await eventually('one open incident rooted at the core', async () => {
    const r = await server.api('GET', '/api/v1/incidents?open=true', undefined, token);
    return r.body.data.length === 1 && r.body.data[0].root_device_id === ids.core && r.body.data[0].impact === 15;
  });
  await page.locator('.map-incidents button').first().click();
  const card = page.locator('.map-incident');
  await card.getByText('15 devices behind it').waitFor();
  assert.equal(await card.getByRole('link', { name: 'core' }).count(), 1);
  assert.match(await node(page, ids.core).getAttribute('class'), /\broot\b/);
  assert.match(await node(page, ids.core).getAttribute('aria-label'), /root cause/);
  assert.equal(await node(page, ids.core).locator('circle.halo').count(), 1);
  assert.equal(await page.locator('svg.map a.node.impact').count(), 15);
  for (const id of behind) assert.match(await node(page, id).getAttribute('class'), /\bimpact\b/);
  // The device linked to nothing is not part of it.
  assert.match(await node(page, ids.lone).getAttribute('class'), /\bdim\b/);
  assert.match(new URL(page.url()).search, /incident=\d+/);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'map-incident');

  // The same in the dark theme, kept by the URL over a reload.
  await page.getByLabel('Theme').selectOption({ label: 'Dark' });
  await page.reload();
  await page.locator('.map-incident').getByText('15 devices behind it').waitFor();
  await node(page, ids.core).locator('circle.halo').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'map-incident-dark');
  await page.getByLabel('Theme').selectOption({ label: 'Light' });

  // A drag that starts on a device pans the map and does not open the device; the view moves.
  const from = await node(page, ids.core).locator('circle').last().boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 120, from.y + 60, { steps: 6 });
  await page.mouse.up();
  await page.waitForTimeout(400);
  assert.equal(new URL(page.url()).pathname, '/map');
  const to = await node(page, ids.core).locator('circle').last().boundingBox();
  assert.ok(Math.abs(to.x - from.x - 110) < 20, `the map moved with the drag (${from.x} -> ${to.x})`);

  // A device on the map is a link to its page.
  await node(page, ids.core).click();
  await page.waitForURL(`${server.url}/devices/${ids.core}`);
  await page.getByRole('heading', { name: 'core' }).waitFor();
  await page.goBack();
  await node(page, ids.core).waitFor();

  // The link comes back: all up again, the incident resolved and gone from the list.
  net.setCoreLink(true);
  await mapShows(page, 'up', 16);
  await page.getByText('No open incidents.').waitFor({ timeout: 30000 });

  // A device added elsewhere appears on the open map (the feed's device_changed), under its
  // parent.
  const late = await server.api('POST', '/api/v1/devices', { name: 'late-cpe', address: '127.0.0.10', type: 'cpe', enabled: false, parents: [ids.dists[0]] }, token);
  assert.equal(late.status, 201, JSON.stringify(late.body));
  await page.getByRole('button', { name: 'Fit' }).click();
  await node(page, late.body.data.id).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('svg.map a.node').count(), 18);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the map at a phone\'s width: no sideways scrolling, the incidents below the map; two fingers pinch to zoom', async () => {
  const page = await openPage(browser, { viewport: { width: 375, height: 740 }, hasTouch: true });
  await signIn(page);
  await page.goto(server.url + '/map');
  await node(page, ids.core).waitFor();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.equal(overflow, 0, 'no sideways scrolling at 375 px');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'map-phone');

  // Two fingers spread apart on the map (touch events, as a phone sends them): the devices
  // spread apart about the fingers' midpoint, and no device opens.
  const gap = async () => {
    const [a, b] = await Promise.all(
      [ids.core, ids.dists[0]].map((id) => node(page, id).locator('circle').last().boundingBox()),
    );
    return Math.hypot(a.x - b.x, a.y - b.y);
  };
  const before = await gap();
  const box = await page.locator('svg.map').boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const cdp = await page.context().newCDPSession(page);
  const touch = (type, d) =>
    cdp.send('Input.dispatchTouchEvent', {
      type,
      touchPoints: type === 'touchEnd' ? [] : [{ x: cx - d, y: cy, id: 1 }, { x: cx + d, y: cy, id: 2 }],
    });
  await touch('touchStart', 20);
  for (const d of [30, 40, 50, 60]) await touch('touchMove', d);
  await touch('touchEnd', 0);
  await page.waitForTimeout(400);
  assert.equal(new URL(page.url()).pathname, '/map');
  const after = await gap();
  assert.ok(after > before * 2, `a pinch zooms in (${before.toFixed(1)} -> ${after.toFixed(1)} px)`);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
