// Admin → System: what this server runs with and how it is doing — its version and uptime, the
// database's health (GET /health), and the pollers' figures for this organization (GET
// /api/v1/pollers). The settings are Admin → Settings' (settings.js).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get } from '../lib/api.js';
import { formatCount, sentence } from '../lib/format.js';
import { AdminTabs } from '../components/admin_tabs.js';

function Fact({ label, children }) {
  return html`<div class="fact"><dt>${label}</dt><dd>${children}</dd></div>`;
}

function uptime(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

export function System({ me }) {
  const [health, setHealth] = useState(null);
  const [pollers, setPollers] = useState(null);
  const [error, setError] = useState(null);

  async function load() {
    try {
      // /health answers 503 with the same body when a check fails: read it either way.
      const h = await fetch('/health', { headers: { Accept: 'application/json' } });
      setHealth(await h.json());
      setPollers((await get('/api/v1/pollers')).data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
    const t = setInterval(load, 10000);
    return () => clearInterval(t);
  }, []);

  const db = health && health.checks && health.checks.database;
  return html`<section class="page">
    <${AdminTabs} me=${me} />
    <h1>System</h1>
    <p class="muted">How the server is doing, read again every 10 s.${me.permissions.includes('settings:admin') ? html` What it runs with is under <a href="/admin/settings">Settings</a>.` : ''}</p>
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${health &&
    html`<section class="card" aria-labelledby="sys-server">
      <h2 id="sys-server">Server</h2>
      <dl class="facts">
        <${Fact} label="Health"><span class=${health.status === 'healthy' ? 'ok' : 'error'}>${health.status}</span><//>
        <${Fact} label="Version">${health.version}<//>
        <${Fact} label="Up for">${uptime(health.uptime_s)}<//>
        <${Fact} label="Database">${db ? html`<span class=${db.status === 'ok' ? 'ok' : 'error'}>${db.status}</span>${db.error ? `: ${db.error}` : ''}` : '—'}<//>
        <${Fact} label="Database check">${db ? `${db.latency_ms.toFixed(2)} ms` : '—'}<//>
        <${Fact} label="Writes queued">${db ? formatCount(db.write_queue_depth) : '—'}<//>
        <${Fact} label="Schema version">${db ? db.schema_version : '—'}<//>
      </dl>
    </section>`}
    ${pollers &&
    html`<section class="card" aria-labelledby="sys-pollers">
      <h2 id="sys-pollers">Polling (this organization)</h2>
      <dl class="facts">
        <${Fact} label="Devices polled">${formatCount(pollers.devices)}<//>
        ${Object.entries(pollers.statuses || {}).map(([s, n]) => html`<${Fact} label=${sentence(s)}>${formatCount(n)}<//>`)}
        <${Fact} label="Service checks">${formatCount(pollers.service_checks.passing)} passing · ${formatCount(pollers.service_checks.failing)} failing · ${formatCount(pollers.service_checks.pending)} pending<//>
        <${Fact} label="Traps accepted">${formatCount(pollers.traps.accepted)}<//>
      </dl>
      ${pollers.kinds &&
      html`<table class="list">
        <caption>Checks by kind</caption>
        <thead><tr><th scope="col">Kind</th><th scope="col" class="num">Checks</th><th scope="col" class="num">Runs ok</th><th scope="col" class="num">Runs failed</th><th scope="col" class="num">Timeouts</th></tr></thead>
        <tbody>
          ${Object.entries(pollers.kinds).map(
            ([k, s]) => html`<tr><td>${k}</td><td class="num">${formatCount(s.checks)}</td><td class="num">${formatCount(s.runs_ok)}</td><td class="num">${formatCount(s.runs_failed)}</td><td class="num">${formatCount(s.timeouts)}</td></tr>`,
          )}
        </tbody>
      </table>`}
    </section>`}
  </section>`;
}
