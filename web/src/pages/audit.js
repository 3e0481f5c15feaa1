// Admin: the audit log, newest first: who did what to what, from where, and how it ended.
// Filters by action (a prefix such as "POST /api/v1/users") and time, kept in the URL; pages of
// 100. Needs audit:read (system administrators see every organization).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get } from '../lib/api.js';
import { formatCount, formatTime, sentence } from '../lib/format.js';
import { AdminTabs } from '../components/admin_tabs.js';

const periods = { '': 'Any time', 3600: 'Last hour', 86400: 'Last 24 hours', 604800: 'Last 7 days', 2592000: 'Last 30 days' };

function fromUrl() {
  const p = new URLSearchParams(location.search);
  return { action: p.get('action') || '', period: periods[p.get('period')] ? p.get('period') : '', page: Number(p.get('page')) || 1 };
}

export function Audit({ me }) {
  const [f, setF] = useState(fromUrl);
  const [action, setAction] = useState(f.action);
  const [rows, setRows] = useState(null);
  const [pages, setPages] = useState({ total: 0, total_pages: 1 });
  const [error, setError] = useState(null);
  const canRead = me.permissions.includes('audit:read');

  useEffect(() => {
    if (!canRead) return;
    const q = new URLSearchParams({ page: String(f.page), per_page: '100' });
    if (f.action) q.set('action', f.action);
    if (f.period) q.set('since', String(Math.floor(Date.now() / 1000) - Number(f.period)));
    const shown = new URLSearchParams();
    if (f.action) shown.set('action', f.action);
    if (f.period) shown.set('period', f.period);
    if (f.page > 1) shown.set('page', String(f.page));
    history.replaceState(null, '', `/admin/audit${shown.toString() ? '?' + shown : ''}`);
    get(`/api/v1/audit?${q}`)
      .then((r) => {
        setRows(r.data);
        setPages(r.pagination);
        setError(null);
      })
      .catch(setError);
  }, [f.action, f.period, f.page]);

  if (!canRead) {
    return html`<section class="page"><h1>Audit log</h1>
      <p class="error" role="alert">Your role (${me.role}) may not read the audit log: it needs audit:read. Ask an administrator.</p></section>`;
  }
  return html`<section class="page">
    <${AdminTabs} me=${me} />
    <h1>Audit log</h1>
    <form class="toolbar" onSubmit=${(e) => { e.preventDefault(); setF({ ...f, action, page: 1 }); }}>
      <label class="inline" for="audit-action">Action starts with</label>
      <input id="audit-action" value=${action} placeholder="POST /api/v1/users" onInput=${(e) => setAction(e.currentTarget.value)} />
      <label class="inline" for="audit-period">When</label>
      <select id="audit-period" value=${f.period} onChange=${(e) => setF({ ...f, period: e.currentTarget.value, page: 1 })}>
        ${Object.entries(periods).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
      </select>
      <button type="submit">Filter</button>
    </form>
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${rows &&
    (rows.length === 0
      ? html`<p class="empty">Nothing recorded${f.action || f.period ? ' that matches' : ''}.</p>`
      : html`<p class="muted">${formatCount(pages.total)} entries</p>
          <table class="list">
            <caption class="sr-only">Audit log, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">From</th><th scope="col">Outcome</th></tr></thead>
            <tbody>
              ${rows.map(
                (a) => html`<tr>
                  <td>${formatTime(a.at)}</td>
                  <td>${a.actor || '—'}</td>
                  <td><code>${a.action}</code></td>
                  <td>${a.target || '—'}</td>
                  <td>${a.source_ip || '—'}</td>
                  <td class=${a.outcome === 'success' ? '' : 'error'}>${a.outcome} (${a.status})</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled=${f.page <= 1} onClick=${() => setF({ ...f, page: f.page - 1 })}>Newer</button>
            <span>Page ${f.page} of ${pages.total_pages || 1}</span>
            <button type="button" disabled=${f.page >= (pages.total_pages || 1)} onClick=${() => setF({ ...f, page: f.page + 1 })}>Older</button>
          </nav>`)}
  </section>`;
}
