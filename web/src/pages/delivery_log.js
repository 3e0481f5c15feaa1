// The delivery log: every notification, newest first, with its status, attempts and the remote's
// last answer; one opens to show each attempt. Dead letters (given up on) can be sent again.
// Filters by status in the URL; pages of 100.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { formatCount, formatTime, sentence } from '../lib/format.js';
import { NotifyTabs } from '../components/notify_tabs.js';

const statuses = { '': 'Any status', pending: 'Pending', sending: 'Sending', delivered: 'Delivered', dead: 'Dead letters', cancelled: 'Cancelled' };

export function DeliveryLog({ me }) {
  const initial = new URLSearchParams(location.search);
  const [status, setStatus] = useState(statuses[initial.get('status')] ? initial.get('status') : '');
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState(null);
  const [pages, setPages] = useState({ total: 0, total_pages: 1 });
  const [open, setOpen] = useState(null); // {id, detail}
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const canWrite = me.permissions.includes('notifications:write');

  async function load() {
    const q = new URLSearchParams({ page: String(page), per_page: '100' });
    if (status) q.set('status', status);
    history.replaceState(null, '', `/notifications/log${status ? '?status=' + status : ''}`);
    try {
      const r = await get(`/api/v1/notifications?${q}`);
      setRows(r.data);
      setPages(r.pagination);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, [status, page]);

  async function show(n) {
    if (open && open.id === n.id) return setOpen(null);
    try {
      const r = await get(`/api/v1/notifications/${n.id}`);
      setOpen({ id: n.id, detail: r.data });
    } catch (e) {
      setNotice({ ok: false, text: sentence(e.message) });
    }
  }

  async function retry(n) {
    try {
      await post(`/api/v1/notifications/${n.id}/retry`);
      setNotice({ ok: true, text: `“${n.title}” queued again` });
      load();
    } catch (e) {
      setNotice({ ok: false, text: sentence(e.message) });
    }
  }

  return html`<section class="page">
    <${NotifyTabs} />
    <h1>Delivery log</h1>
    <div class="toolbar">
      <label class="inline" for="log-status">Status</label>
      <select id="log-status" value=${status} onChange=${(e) => { setStatus(e.currentTarget.value); setPage(1); }}>
        ${Object.entries(statuses).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
      </select>
      <button type="button" onClick=${load}>Refresh</button>
    </div>
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${rows &&
    (rows.length === 0
      ? html`<p class="empty">Nothing sent${status ? ' with this status' : ' yet'}.</p>`
      : html`<p class="muted">${formatCount(pages.total)} notifications</p>
          <table class="list">
            <caption class="sr-only">Notifications, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Message</th><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              ${rows.map(
                (n) => html`<tr>
                  <td>${formatTime(n.created_at)}</td>
                  <td><span class=${'badge sev-' + n.severity}>${n.severity}</span> ${n.title} <span class="muted">(${n.kind})</span></td>
                  <td>${n.channel_name}</td>
                  <td class=${n.status === 'dead' ? 'error' : ''}>${n.status}</td>
                  <td>${n.attempts}</td>
                  <td>${n.last_status !== null ? n.last_status : ''}${n.last_error ? ` ${n.last_error}` : ''}</td>
                  <td class="actions">
                    <button type="button" aria-expanded=${open && open.id === n.id} onClick=${() => show(n)}>Attempts<span class="sr-only"> of ${n.title}</span></button>
                    ${canWrite && n.status === 'dead' && html`<button type="button" onClick=${() => retry(n)}>Send again</button>`}
                  </td>
                </tr>
                ${open && open.id === n.id &&
                html`<tr><td colspan="7">
                  <ol class="attempts">
                    ${(open.detail.attempt_log || []).map(
                      (a) => html`<li>#${a.attempt} ${formatTime(a.started_at)}: ${a.outcome}${a.remote_status !== null ? ` (${a.remote_status})` : ''}, ${a.latency_ms} ms${a.detail ? ` — ${a.detail}` : ''}</li>`,
                    )}
                    ${(!open.detail.attempt_log || open.detail.attempt_log.length === 0) && html`<li>No attempt yet.</li>`}
                  </ol>
                </td></tr>`}`,
              )}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Newer</button>
            <span>Page ${page} of ${pages.total_pages || 1}</span>
            <button type="button" disabled=${page >= (pages.total_pages || 1)} onClick=${() => setPage(page + 1)}>Older</button>
          </nav>`)}
  </section>`;
}
