// One device: its facts and what the pollers saw last (ICMP, interfaces with rates, checks), its
// open alerts and latest events, and "poll now"; charts of the last 24 hours — latency and loss,
// traffic (all interfaces, or the one chosen in the table), CPU, memory, storage and temperature
// — read in one batch request (POST /api/v1/query_batch). Live: the status over the feed; the
// rest is reloaded when its status, an interface or a check of it changes, and the charts when
// a new sample of the device arrives (at most every 10 s).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { useLive, useLiveSeries } from '../lib/live.js';
import { formatAgo, formatTime, sentence } from '../lib/format.js';
import { formatValue } from '../lib/units.js';
import { Chart, toColumns } from '../components/chart.js';

const DAY = 86400;

// The charts' queries over the last 24 hours, one batch: each [id, parameters].
function chartQueries(id, ifIndex) {
  const dev = `device_id="${id}"`;
  const ifSel = ifIndex === null ? '' : `,ifIndex="${ifIndex}"`;
  const steps = { step: '300s', agg: 'avg' };
  return [
    ['rtt', { query: `icmp_rtt_avg_ms{${dev}}`, points: 1000 }],
    ['loss', { query: `icmp_loss_pct{${dev}}`, points: 1000 }],
    ['in', { query: `ifInBps{${dev}${ifSel}}`, group: 'sum', ...steps }],
    ['out', { query: `ifOutBps{${dev}${ifSel}}`, group: 'sum', ...steps }],
    ['cpu', { query: `hrProcessorLoad{${dev}}`, group: 'avg', ...steps }],
    ['memory', { query: `hrStorageUsedPct{${dev},type="ram"}`, group: 'max', ...steps }],
    ['storage', { query: `hrStorageUsedPct{${dev},type="disk"}`, group: 'max', by: 'storage', ...steps }],
    ['temperature', { query: `entPhySensorCelsius{${dev}}`, group: 'max', by: 'sensor', ...steps }],
  ];
}

async function loadCharts(id, ifIndex) {
  // Up to the next whole second: a sample of this very second (a poll just now) is in range.
  const end = Math.floor(Date.now() / 1000) + 1;
  const queries = chartQueries(id, ifIndex).map(([qid, q]) => ({ id: qid, start: end - DAY, end, ...q }));
  const r = await post('/api/v1/query_batch', { queries });
  const out = { range: [end - DAY, end] };
  for (const res of r.data.results) out[res.id] = res.error ? [] : res.series;
  return out;
}

const count = (list) => list.reduce((n, s) => n + s.points.length, 0);
const labelOf = (s, key) => (s.labels && s.labels[key]) || key;

// bit/s with units, as operators read link rates.
export function formatBps(v) {
  if (v === null || v === undefined) return '—';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let i = 0;
  let x = v;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i += 1;
  }
  return `${x.toFixed(x < 10 && i > 0 ? 2 : x < 100 && i > 0 ? 1 : 0)} ${units[i]}`;
}

const operNames = { 1: 'up', 2: 'down', 3: 'testing', 5: 'dormant', 6: 'not present', 7: 'lower layer down' };

function Fact({ label, children }) {
  return html`<div class="fact"><dt>${label}</dt><dd>${children}</dd></div>`;
}

export function DeviceDetail({ id, me }) {
  const [device, setDevice] = useState(null);
  const [interfaces, setInterfaces] = useState([]);
  const [alerts, setAlerts] = useState([]);
  const [events, setEvents] = useState([]);
  const [error, setError] = useState(null);
  const [polling, setPolling] = useState(null);
  const [charts, setCharts] = useState(null);
  const [ifIndex, setIfIndex] = useState(null); // the interface the traffic chart shows; null: all
  const chartTimer = useRef(null);
  const canPoll = me.permissions.includes('devices:write');

  async function reloadCharts() {
    try {
      setCharts(await loadCharts(id, ifIndex));
    } catch {
      setCharts((c) => c || { range: [0, 0], rtt: [], loss: [], in: [], out: [], cpu: [], memory: [], storage: [], temperature: [] });
    }
  }
  useEffect(() => {
    reloadCharts();
  }, [id, ifIndex]);
  useEffect(() => () => clearTimeout(chartTimer.current), []);
  // A new sample of this device redraws the charts, at most every 10 s.
  useLiveSeries([`icmp_rtt_avg_ms{device_id="${id}"}`, `ifInBps{device_id="${id}"}`, `hrProcessorLoad{device_id="${id}"}`], () => {
    if (chartTimer.current) return;
    chartTimer.current = setTimeout(() => {
      chartTimer.current = null;
      reloadCharts();
    }, 10000);
  });

  async function load() {
    try {
      const [d, ifs, al, ev] = await Promise.all([
        get(`/api/v1/devices/${id}`),
        get(`/api/v1/devices/${id}/interfaces`).catch(() => ({ data: [] })),
        get(`/api/v1/alerts?device=${id}&open=true&per_page=50`),
        get(`/api/v1/devices/${id}/events?per_page=20`),
      ]);
      setDevice(d.data);
      setInterfaces(ifs.data);
      setAlerts(al.data);
      setEvents(ev.data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, [id]);
  useLive(['devices', 'interfaces', 'checks', 'alerts'], (msg) => {
    if (msg.type === 'reload') return load();
    const d = msg.data || {};
    if (d.device_id === Number(id)) load();
  });

  async function pollNow() {
    setPolling({ busy: true });
    try {
      const r = await post(`/api/v1/devices/${id}/poll`, {});
      setPolling({ done: r.data });
      await load();
    } catch (e) {
      setPolling({ error: e });
    }
  }

  if (error) {
    return html`<section class="page"><h1>Device #${id}</h1>
      <p class="error" role="alert">${sentence(error.message)}</p>
      <p><a href="/devices">Back to the devices</a></p></section>`;
  }
  if (!device) return html`<section class="page" aria-busy="true"><h1>Device #${id}</h1><p class="muted">Loading…</p></section>`;
  const d = device;
  const icmp = d.latest && d.latest.icmp;
  return html`
    <section class="page">
      <p><a href="/devices">← Devices</a></p>
      <h1>${d.name} <span class=${'status-pill status-' + d.status}>${d.status}</span></h1>
      <dl class="facts card">
        <${Fact} label="Address"><code>${d.address}</code><//>
        <${Fact} label="Type">${d.type}<//>
        <${Fact} label="Vendor / model">${[d.vendor, d.model].filter(Boolean).join(' ') || '—'}<//>
        <${Fact} label="Location">${d.location || '—'}<//>
        <${Fact} label="Status since">${d.status_changed_at ? `${formatTime(d.status_changed_at)} (${formatAgo(d.status_changed_at)})` : '—'}<//>
        <${Fact} label="Last seen">${d.last_seen ? formatAgo(d.last_seen) : 'never'}<//>
        <${Fact} label="Uptime">${d.uptime_s !== null ? `${Math.floor(d.uptime_s / 86400)} d ${Math.floor((d.uptime_s % 86400) / 3600)} h` : '—'}<//>
        <${Fact} label="Polling">${d.enabled ? `every ${d.poll_interval_s} s` : 'disabled'}${d.maintenance ? ' · in maintenance' : ''}<//>
        <${Fact} label="Latency / loss">${icmp ? `${icmp.rtt_avg_ms !== null ? icmp.rtt_avg_ms.toFixed(2) + ' ms' : '—'} · ${icmp.loss_pct} % loss` : 'not measured yet'}<//>
        <${Fact} label="Tags">${d.tags.length ? d.tags.join(', ') : '—'}<//>
      </dl>
      <div class="toolbar">
        ${canPoll && html`<button type="button" disabled=${polling && polling.busy} onClick=${pollNow}>Poll now</button>
          <a class="button" href=${`/devices/${d.id}/edit`}>Edit</a>`}
        <a class="button" href=${`/map?focus=${d.id}`}>Show on the map</a>
        ${polling && polling.error && html`<span class="error" role="alert">${sentence(polling.error.message)}</span>`}
        ${polling && polling.done && html`<span role="status">Polled ${formatTime(Date.now() / 1000)}</span>`}
      </div>
      <section class="card" aria-labelledby="dev-latency">
        <h2 id="dev-latency">Latency and loss, last 24 hours</h2>
        ${!charts
          ? html`<p class="muted">Loading the charts…</p>`
          : count(charts.rtt) + count(charts.loss) === 0
            ? html`<p class="empty">No ICMP samples yet.</p>`
            : html`<div class="charts">
                <${Chart} label="Round-trip time" summary=${`Round-trip time, ${count(charts.rtt)} samples`}
                  data=${toColumns(charts.rtt.slice(0, 1))} range=${charts.range} series=${[{ label: 'RTT avg', color: '--info', unit: 'ms' }]} />
                <${Chart} label="Packet loss" summary=${`Packet loss, ${count(charts.loss)} samples`}
                  data=${toColumns(charts.loss.slice(0, 1))} range=${charts.range} series=${[{ label: 'Loss', color: '--down', unit: '%' }]} />
              </div>`}
      </section>
      ${charts && html`<section class="card" aria-labelledby="dev-traffic">
        <h2 id="dev-traffic">Traffic, last 24 hours${ifIndex === null ? ', all interfaces' : `: ${(interfaces.find((i) => i.if_index === ifIndex) || {}).name || `interface ${ifIndex}`}`}</h2>
        ${ifIndex !== null && html`<p><button type="button" class="link" onClick=${() => setIfIndex(null)}>Show all interfaces</button></p>`}
        ${count(charts.in) + count(charts.out) === 0
          ? html`<p class="empty">No interface rates yet (they need two SNMP polls).</p>`
          : html`<${Chart} label="Traffic" summary=${`Traffic in and out, ${count(charts.in)} steps`}
              data=${toColumns([charts.in[0] || { points: [] }, charts.out[0] || { points: [] }])} range=${charts.range}
              format=${(v) => formatValue(v, 'bps')}
              series=${[{ label: 'In', color: '--series-1' }, { label: 'Out', color: '--series-3' }]} />`}
      </section>`}
      ${charts && count(charts.cpu) + count(charts.memory) + count(charts.storage) + count(charts.temperature) > 0 &&
      html`<section class="card" aria-labelledby="dev-resources">
        <h2 id="dev-resources">CPU, memory, storage and temperature, last 24 hours</h2>
        <div class="charts">
          ${count(charts.cpu) + count(charts.memory) > 0 &&
          html`<${Chart} label="CPU and memory" summary=${`CPU load and memory used, ${count(charts.cpu)} steps`}
            data=${toColumns([charts.cpu[0] || { points: [] }, charts.memory[0] || { points: [] }])} range=${charts.range}
            format=${(v) => formatValue(v, 'percent')}
            series=${[{ label: 'CPU (average of cores)', color: '--series-1' }, { label: 'Memory used', color: '--series-5' }]} />`}
          ${count(charts.storage) > 0 &&
          html`<${Chart} label="Storage used" summary=${`Storage used, ${charts.storage.length} volumes`}
            data=${toColumns(charts.storage.slice(0, 8))} range=${charts.range}
            format=${(v) => formatValue(v, 'percent')}
            series=${charts.storage.slice(0, 8).map((s, i) => ({ label: labelOf(s, 'storage'), color: `--series-${(i % 8) + 1}` }))} />`}
          ${count(charts.temperature) > 0 &&
          html`<${Chart} label="Temperature" summary=${`Temperature, ${charts.temperature.length} sensors`}
            data=${toColumns(charts.temperature.slice(0, 8))} range=${charts.range}
            format=${(v) => formatValue(v, 'celsius')}
            series=${charts.temperature.slice(0, 8).map((s, i) => ({ label: labelOf(s, 'sensor'), color: `--series-${(i % 8) + 1}` }))} />`}
        </div>
      </section>`}
      <section class="card" aria-labelledby="dev-alerts">
        <h2 id="dev-alerts">Open alerts</h2>
        ${alerts.length === 0
          ? html`<p class="empty">No open alerts.</p>`
          : html`<ul class="events">
              ${alerts.map(
                (a) => html`<li>
                  <span class=${'badge sev-' + a.severity}>${a.severity}</span>
                  <a href=${'/alerts/' + a.id}>${a.annotations.summary || a.rule_name}</a>
                  <time datetime=${a.started_at}>${formatAgo(a.started_at)}</time>
                </li>`,
              )}
            </ul>`}
      </section>
      <section class="card" aria-labelledby="dev-ifs">
        <h2 id="dev-ifs">Interfaces</h2>
        ${interfaces.length === 0
          ? html`<p class="empty">No interfaces polled yet.</p>`
          : html`<table class="list">
              <caption class="sr-only">Interfaces of ${d.name}</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">In</th><th scope="col">Out</th><th scope="col">Utilization</th><th scope="col">Speed</th><th scope="col"><span class="sr-only">Chart</span></th></tr></thead>
              <tbody>
                ${interfaces.map(
                  (i) => html`<tr key=${i.if_index}>
                    <td>${i.name || i.descr}${i.alias ? html`<div class="muted">${i.alias}</div>` : ''}</td>
                    <td>${i.admin_status === 2 ? 'admin down' : operNames[i.oper_status] || i.oper_status}</td>
                    <td>${formatBps(i.in_bps)}</td>
                    <td>${formatBps(i.out_bps)}</td>
                    <td>${i.utilization_pct !== null ? `${i.utilization_pct.toFixed(1)} %` : '—'}</td>
                    <td>${i.speed_bps ? formatBps(i.speed_bps) : '—'}</td>
                    <td><button type="button" aria-pressed=${ifIndex === i.if_index} onClick=${() => setIfIndex(ifIndex === i.if_index ? null : i.if_index)}>Chart<span class="sr-only"> ${i.name || i.descr}</span></button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
      </section>
      <section class="card" aria-labelledby="dev-events">
        <h2 id="dev-events">Events</h2>
        ${events.length === 0
          ? html`<p class="empty">No events yet.</p>`
          : html`<ul class="events">
              ${events.map(
                (e) => html`<li>
                  <span class=${'badge sev-' + e.severity}>${e.kind}</span>
                  <span>${e.message}</span>
                  <time datetime=${e.at} title=${formatTime(e.at)}>${formatAgo(e.at)}</time>
                </li>`,
              )}
            </ul>`}
      </section>
    </section>
  `;
}
