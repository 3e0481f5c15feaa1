// The web UI's pure helpers, without a browser: units (bit/s, bytes, percent), the dashboard
// grid (a move pushes covered panels down, gaps close upwards, never two panels on one cell), and
// the panel queries (steps, metric names), the topology map's layout and view, and the CSV that
// adds a discovery scan's hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue } from '../src/lib/units.js';
import { compact, settle } from '../src/lib/grid.js';
import { metricOf, panelQuery } from '../src/lib/panel_data.js';
import { fitView, layoutTopology, zoomAt } from '../src/lib/topology.js';
import { proposalsCsv } from '../src/lib/discovery_csv.js';
import { snmpBody } from '../src/lib/snmp.js';

test('values print with their units', () => {
  assert.equal(formatValue(1234567890, 'bps'), '1.23 Gbit/s');
  assert.equal(formatValue(999, 'bps'), '999 bit/s');
  assert.equal(formatValue(1536, 'bytes'), '1.50 KiB');
  assert.equal(formatValue(3 * 1024 ** 3, 'bytes'), '3 GiB');
  assert.equal(formatValue(92.5, 'percent'), '92.5 %');
  assert.equal(formatValue(0.004, 'ms'), '0.004 ms');
  assert.equal(formatValue(42, ''), '42');
  assert.equal(formatValue(-7.25, 'dBm'), '-7.25 dBm');
  assert.equal(formatValue(21.5, 'celsius'), '21.5 °C');
  assert.equal(formatValue(12000, 'short'), '12k');
  assert.equal(formatValue(null, 'bps'), '—');
  assert.equal(formatValue(NaN, 'bps'), '—');
  assert.equal(formatValue(Infinity, ''), '+∞');
});

function overlapping(panels) {
  for (const a of panels) {
    for (const b of panels) {
      if (a !== b && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) return [a.id, b.id];
    }
  }
  return null;
}

test('a panel moved onto others pushes them down; gaps close', () => {
  const panels = [
    { id: 'a', x: 0, y: 0, w: 6, h: 4 },
    { id: 'b', x: 6, y: 0, w: 6, h: 4 },
    { id: 'c', x: 0, y: 4, w: 12, h: 2 },
  ];
  // b dragged onto a's place.
  const moved = settle(panels.map((p) => (p.id === 'b' ? { ...p, x: 0, y: 0 } : p)), 'b');
  assert.equal(overlapping(moved), null);
  const by = Object.fromEntries(moved.map((p) => [p.id, p]));
  assert.deepEqual([by.b.x, by.b.y], [0, 0]);
  assert.deepEqual([by.a.x, by.a.y], [0, 4]);
  assert.equal(by.c.y, 8);
  // A gap closes upwards.
  const up = compact([{ id: 'x', x: 0, y: 5, w: 3, h: 2 }]);
  assert.equal(up[0].y, 0);
  // Random layouts, moved at random: never two panels on one cell.
  let seed = 7;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let round = 0; round < 200; round++) {
    const list = [];
    for (let i = 0; i < 12; i++) {
      const w = 1 + rand(12);
      list.push({ id: `p${i}`, x: rand(13 - w), y: rand(30), w, h: 1 + rand(6) });
    }
    const start = compact(settle(list, 'p0'));
    assert.equal(overlapping(start), null);
    const target = start[rand(start.length)];
    const w = target.w;
    const next = settle(start.map((p) => (p.id === target.id ? { ...p, x: rand(13 - w), y: rand(20) } : p)), target.id);
    assert.equal(overlapping(next), null, JSON.stringify(next));
    assert.equal(next.length, 12);
  }
});

test('panel queries: a chart steps a minute or more, the rest read the last 15 minutes', () => {
  const chart = { id: 'a', kind: 'timeseries', query: { selector: 'ifHCInOctets{host="r1"}', fn: 'rate', by: ['host'], group: 'sum', topk: 5 } };
  const q = panelQuery(chart, '24h', 1000000);
  assert.deepEqual(q, { id: 'a', query: 'ifHCInOctets{host="r1"}', start: 1000000 - 86400, end: 1000000, step: '360s', fn: 'rate', by: ['host'], group: 'sum', topk: 5 });
  assert.equal(panelQuery(chart, '15m', 1000000).step, '60s');
  const stat = { id: 's', kind: 'stat', query: { selector: 'cpu' } };
  assert.deepEqual(panelQuery(stat, '30d', 1000000), { id: 's', query: 'cpu', start: 1000000 - 900, end: 1000000, step: '60s', agg: 'last' });
  assert.equal(panelQuery({ ...stat, query: { selector: 'cpu', agg: 'max' } }, '1h', 1000000).agg, 'max');
  assert.equal(metricOf('ifHCInOctets{host="r1"}'), 'ifHCInOctets');
  assert.equal(metricOf('  cpu'), 'cpu');
  assert.equal(metricOf('{host="r1"}'), null);
});

test('the topology layout: rings by hops, subtrees apart, lone devices in a grid, no loop', () => {
  const nodes = [
    { id: 1, parents: [] },
    { id: 2, parents: [1] },
    { id: 3, parents: [1] },
    { id: 4, parents: [2] },
    { id: 5, parents: [2, 3] },
    { id: 6, parents: [] },
    { id: 7, parents: [99] }, // a parent not on the map: a lone device
  ];
  const l = layoutTopology(nodes);
  assert.deepEqual(l.roots, [1]);
  assert.deepEqual(l.isolated, [6, 7]);
  // The one root at the centre, its children on the first ring, theirs on the second.
  const r = (id) => Math.hypot(l.pos.get(id).x, l.pos.get(id).y);
  assert.equal(r(1), 0);
  assert.ok(Math.abs(r(2) - r(3)) < 1e-6 && r(2) > 100);
  assert.ok(Math.abs(r(4) - 2 * r(2)) < 1e-6 && Math.abs(r(5) - r(4)) < 1e-6);
  // Device 5 hangs under its first parent; the other link is secondary.
  assert.deepEqual(l.primary.filter(([, b]) => b === 5), [[2, 5]]);
  assert.deepEqual(l.secondary, [[3, 5]]);
  // The lone devices sit below the circle.
  assert.ok(l.pos.get(6).y > r(4) && l.pos.get(7).y === l.pos.get(6).y);
  // Every device placed, none on another.
  const spots = new Set([...l.pos.values()].map((p) => `${p.x.toFixed(3)},${p.y.toFixed(3)}`));
  assert.equal(spots.size, nodes.length);

  // A cycle (a stale answer) does not hang the layout: one of it becomes a root.
  const loop = layoutTopology([
    { id: 1, parents: [2] },
    { id: 2, parents: [1] },
  ]);
  assert.equal(loop.pos.size, 2);
  assert.equal(loop.roots.length, 1);

  // 1,000 devices: every one placed apart, the extent bounded by the leaves.
  const big = [{ id: 1, parents: [] }];
  for (let i = 2; i <= 11; i++) big.push({ id: i, parents: [1] });
  for (let i = 12; i <= 51; i++) big.push({ id: i, parents: [2 + ((i - 12) >> 2)] });
  for (let i = 52; i <= 1000; i++) big.push({ id: i, parents: [12 + (i % 40)] });
  const b = layoutTopology(big);
  assert.equal(b.pos.size, 1000);
  const bigSpots = new Set([...b.pos.values()].map((p) => `${Math.round(p.x)},${Math.round(p.y)}`));
  assert.equal(bigSpots.size, 1000);
  assert.ok(b.extent.x1 - b.extent.x0 < 7000);
});

test('the map\'s view: fit centres the extent, zoom keeps the point under the pointer', () => {
  const v = fitView({ x0: -100, y0: -50, x1: 100, y1: 50 }, 480, 280, 40);
  assert.equal(v.k, 2);
  assert.equal(v.tx, 240);
  assert.equal(v.ty, 140);
  const z = zoomAt({ k: 1, tx: 0, ty: 0 }, 2, 100, 50);
  assert.deepEqual(z, { k: 2, tx: -100, ty: -50 });
  // The layout point under (100, 50) stays there.
  assert.equal(100 * z.k + z.tx, 100);
  assert.equal(zoomAt({ k: 4, tx: 0, ty: 0 }, 10, 0, 0).k, 4);
});

test('discovery: the CSV that adds the chosen hosts, with their SNMP set and parents by address', () => {
  const host = (address, name, cred, parents = [], scanParents = []) => ({
    address,
    snmp_credential: cred,
    proposed_parent_addresses: scanParents,
    proposal: { name, type: 'switch', vendor: 'Acme', os: '', location: 'rack 7, "north"', parents },
  });
  const sets = [
    { version: '2c', port: 1161, community: 'pub,lic', user: 'x', auth_password: 'y' },
    { version: '3', port: 161, user: 'ops', auth_protocol: 'SHA', auth_password: 'auth-secret', priv_protocol: 'AES', priv_password: 'priv-secret' },
  ];
  const csv = proposalsCsv(
    [host('10.0.0.2', 'sw-2', 0, [7], ['10.0.0.1', '10.0.0.9']), host('10.0.0.3', 'sw-3', 1), host('10.0.0.4', 'ping-only', null)],
    sets,
    { withParents: true, addressOf: new Map([[7, '10.0.0.254']]), addable: new Set(['10.0.0.1']) },
  );
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'name,address,type,vendor,os,location,parents,snmp_version,snmp_port,snmp_community,snmp_user,snmp_auth_protocol,snmp_auth_password,snmp_priv_protocol,snmp_priv_password');
  // v2c: the community only (quoted: it has a comma); parents: the existing device by address and
  // the scan's host that is added too, not the one that is not.
  assert.equal(lines[1], 'sw-2,10.0.0.2,switch,Acme,,"rack 7, ""north""",10.0.0.254;10.0.0.1,2c,1161,"pub,lic",,,,,');
  assert.equal(lines[2], 'sw-3,10.0.0.3,switch,Acme,,"rack 7, ""north""",,3,161,,ops,SHA,auth-secret,AES,priv-secret');
  assert.equal(lines[3], 'ping-only,10.0.0.4,switch,Acme,,"rack 7, ""north""",,,,,,,,,');
  // Without parents, or without the secrets (a scan started elsewhere): left empty.
  const bare = proposalsCsv([host('10.0.0.2', 'sw-2', 0, [7])], null, { withParents: false, addressOf: new Map([[7, 'x']]), addable: new Set() });
  assert.equal(bare.trimEnd().split('\n')[1], 'sw-2,10.0.0.2,switch,Acme,,"rack 7, ""north""",,,,,,,,,');
});

test('the snmp object of a form: v2c with its community, v3 with its protocols, empty secrets left out', () => {
  assert.deepEqual(snmpBody({ version: '2c', port: '1161', community: 'public', user: 'x' }), { version: '2c', port: 1161, community: 'public' });
  assert.deepEqual(snmpBody({ version: '2c', port: '161', community: '' }), { version: '2c', port: 161 });
  assert.deepEqual(
    snmpBody({ version: '3', port: '161', user: ' ops ', auth_protocol: 'SHA', auth_password: 'a-secret', priv_protocol: 'AES', priv_password: '', context: ' ' }),
    { version: '3', port: 161, user: 'ops', auth_protocol: 'SHA', priv_protocol: 'AES', auth_password: 'a-secret' },
  );
  // A port that is not a number goes as it is: the server names it.
  assert.equal(snmpBody({ version: '1', port: 'x' }).port, 'x');
});
