// Incidents: what the topology correlation made of many alerts — one root (the device that
// failed), its symptoms (the alerts of the devices behind it) and its impact (how many devices
// are behind it). Open ones first; live over the feed. One incident shows its root alert, every
// symptom and every impacted device.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get } from '../lib/api.js';
import { useLiveReload } from '../lib/live.js';
import { formatAgo, formatCount, formatTime, sentence } from '../lib/format.js';
import { AlertsTabs } from '../components/alerts_tabs.js';

export function Incidents() {
  const [open, setOpen] = useState(new URLSearchParams(location.search).get('show') !== 'all');
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);

  async function load() {
    try {
      const r = await get(`/api/v1/incidents?per_page=200${open ? '&open=true' : ''}`);
      setRows(r.data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    history.replaceState(null, '', `/alerts/incidents${open ? '' : '?show=all'}`);
    load();
  }, [open]);
  useLiveReload(['incidents'], load, { delay: 500 });

  return html`<section class="page">
    <${AlertsTabs} />
    <h1>Incidents</h1>
    <div class="toolbar">
      <label class="check"><input type="checkbox" checked=${!open} onChange=${(e) => setOpen(!e.currentTarget.checked)} /> Also resolved ones</label>
    </div>
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${rows &&
    (rows.length === 0
      ? html`<p class="empty">${open ? 'No open incidents.' : 'No incidents.'}</p>`
      : html`<table class="list">
          <caption class="sr-only">Incidents, newest first</caption>
          <thead><tr><th scope="col">Incident</th><th scope="col">Status</th><th scope="col" class="num">Devices behind it</th><th scope="col" class="num">Symptoms</th><th scope="col">Opened</th></tr></thead>
          <tbody>
            ${rows.map(
              (i) => html`<tr>
                <td><a href=${`/incidents/${i.id}`}>${i.title}</a></td>
                <td>${i.status}${i.resolved_at ? html`<br /><span class="muted">${formatAgo(i.resolved_at)}</span>` : ''}</td>
                <td class="num">${formatCount(i.impact)}</td>
                <td class="num">${formatCount(i.symptom_count)}</td>
                <td>${formatTime(i.opened_at)}<br /><span class="muted">${formatAgo(i.opened_at)}</span></td>
              </tr>`,
            )}
          </tbody>
        </table>`)}
  </section>`;
}

export function IncidentDetail({ id }) {
  const [inc, setInc] = useState(null);
  const [devices, setDevices] = useState({});
  const [error, setError] = useState(null);

  async function load() {
    try {
      const r = await get(`/api/v1/incidents/${id}`);
      setInc(r.data);
      setError(null);
      // The impacted devices' names (a page of the inventory covers up to 500).
      const ids = r.data.impacted_devices.slice(0, 500);
      if (ids.length) {
        const d = await get('/api/v1/devices?per_page=500');
        setDevices(Object.fromEntries(d.data.map((x) => [x.id, x])));
      }
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, [id]);
  useLiveReload(['incidents', 'alerts'], load, { delay: 500 });

  if (error) {
    return html`<section class="page"><h1>Incident</h1><p class="error" role="alert">${error.status === 404 ? 'There is no such incident.' : sentence(error.message)}</p></section>`;
  }
  if (!inc) return html`<section class="page"><h1>Incident</h1><p class="muted">Loading…</p></section>`;
  const root = inc.root;
  return html`<section class="page">
    <p><a href="/alerts/incidents">All incidents</a></p>
    <h1>${inc.title}</h1>
    <p class="toolbar"><a class="button" href=${`/map?incident=${inc.id}`}>Show on the map</a></p>
    <dl class="facts">
      <div class="fact"><dt>Status</dt><dd>${inc.status}</dd></div>
      <div class="fact"><dt>Opened</dt><dd>${formatTime(inc.opened_at)}</dd></div>
      ${inc.resolved_at && html`<div class="fact"><dt>Resolved</dt><dd>${formatTime(inc.resolved_at)}</dd></div>`}
      <div class="fact"><dt>Devices behind the root</dt><dd>${formatCount(inc.impact)}</dd></div>
      <div class="fact"><dt>Symptom alerts</dt><dd>${formatCount(inc.symptom_count)}</dd></div>
    </dl>
    <section class="card" aria-labelledby="inc-root">
      <h2 id="inc-root">Root cause</h2>
      ${root
        ? html`<p><span class=${'badge sev-' + root.severity}>${root.severity}</span> <a href=${`/alerts/${root.id}`}>${root.rule_name}</a>
            ${root.device_id && html` on <a href=${`/devices/${root.device_id}`}>${(devices[root.device_id] && devices[root.device_id].name) || root.subject}</a>`} — ${root.status}</p>`
        : html`<p class="muted">The root alert is no longer open.</p>`}
    </section>
    <section class="card" aria-labelledby="inc-symptoms">
      <h2 id="inc-symptoms">Symptoms (${inc.symptoms.length})</h2>
      ${inc.symptoms.length === 0
        ? html`<p class="empty">No symptom alerts.</p>`
        : html`<ul class="events">${inc.symptoms.map((a) => html`<li><a href=${`/alerts/${a.id}`}>${a.rule_name}</a> <span class="muted">${a.subject}</span> — ${a.status}</li>`)}</ul>`}
    </section>
    <section class="card" aria-labelledby="inc-impact">
      <h2 id="inc-impact">Devices behind it (${inc.impacted_devices.length})</h2>
      <ul class="status-grid">
        ${inc.impacted_devices.map((d) => {
          const dev = devices[d];
          return html`<li><a href=${`/devices/${d}`} class=${'cell status-' + (dev ? dev.status : 'unknown')}>${dev ? dev.name : `device ${d}`}<span class="sr-only">: ${dev ? dev.status : ''}</span></a></li>`;
        })}
      </ul>
    </section>
  </section>`;
}
