// One alert: what it is, its history and comments; acknowledge (with a note), resolve (with a
// reason) and comment. Live: reloaded when the feed reports a change to it.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { useLive } from '../lib/live.js';
import { formatAgo, formatTime, sentence } from '../lib/format.js';

function Fact({ label, children }) {
  return html`<div class="fact"><dt>${label}</dt><dd>${children}</dd></div>`;
}

export function AlertDetail({ id, me }) {
  const [alert, setAlert] = useState(null);
  const [error, setError] = useState(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState(null);
  const canAct = me.permissions.includes('alerts:write');

  async function load() {
    try {
      const r = await get(`/api/v1/alerts/${id}`);
      setAlert(r.data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, [id]);
  useLive(['alerts'], (msg) => {
    if (msg.type === 'reload' || (msg.type === 'alert' && msg.data.id === Number(id))) load();
  });

  async function act(action) {
    setBusy(true);
    setActionError(null);
    try {
      if (action === 'comment') {
        await post(`/api/v1/alerts/${id}/comments`, { text });
      } else {
        await post(`/api/v1/alerts/${id}/${action}`, action === 'acknowledge' ? { note: text } : { reason: text });
      }
      setText('');
      await load();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }

  if (error) {
    return html`<section class="page"><h1>Alert #${id}</h1>
      <p class="error" role="alert">${sentence(error.message)}</p>
      <p><a href="/alerts">Back to the alerts</a></p></section>`;
  }
  if (!alert) return html`<section class="page" aria-busy="true"><h1>Alert #${id}</h1><p class="muted">Loading…</p></section>`;
  const a = alert;
  const title = a.annotations.summary || a.rule_name;
  return html`
    <section class="page">
      <p><a href="/alerts">← Alerts</a></p>
      <h1><span class=${'badge sev-' + a.severity}>${a.severity}</span> ${title}</h1>
      ${a.annotations.description && html`<p>${a.annotations.description}</p>`}
      <dl class="facts card">
        <${Fact} label="Status">${a.status}${a.silenced ? ' (silenced)' : ''}${a.flapping ? ' (flapping)' : ''}<//>
        <${Fact} label="Rule">${a.rule_name} (${a.kind})<//>
        <${Fact} label="Subject">${a.device_id ? html`<a href=${'/devices/' + a.device_id}>${a.device_name}</a>` : a.subject}<//>
        <${Fact} label="Value">${a.value ?? '—'}${a.threshold !== null ? ` (threshold ${a.threshold})` : ''}<//>
        <${Fact} label="Started">${formatTime(a.started_at)} (${formatAgo(a.started_at)})<//>
        ${a.acknowledged_at && html`<${Fact} label="Acknowledged">${formatTime(a.acknowledged_at)} by ${a.acknowledged_by_name}${a.ack_note ? ` — ${a.ack_note}` : ''}<//>`}
        ${a.resolved_at && html`<${Fact} label="Resolved">${formatTime(a.resolved_at)}${a.resolve_reason ? ` — ${a.resolve_reason}` : ''}<//>`}
        ${a.symptom_of && html`<${Fact} label="Symptom of"><a href=${'/alerts/' + a.symptom_of}>alert #${a.symptom_of}</a><//>`}
        ${a.incident_id && html`<${Fact} label="Incident"><a href=${'/incidents/' + a.incident_id}>incident #${a.incident_id}</a><//>`}
        ${/^https?:\/\//i.test(a.annotations.runbook_url || '') && html`<${Fact} label="Runbook"><a href=${a.annotations.runbook_url} rel="noreferrer noopener" target="_blank">${a.annotations.runbook_url}</a><//>`}
      </dl>
      ${canAct && a.status !== 'resolved' &&
      html`<p><a href=${'/alerts/silences?' + new URLSearchParams([...(a.rule_id ? [['rule', a.rule_id]] : []), ...(a.device_id ? [['device', a.device_id]] : [])])}>Silence alerts like this…</a></p>`}
      ${canAct &&
      html`<form class="card actions-form" onSubmit=${(e) => { e.preventDefault(); act('comment'); }}>
        <label for="alert-text">Note, reason or comment</label>
        <textarea id="alert-text" rows="2" maxlength="4096" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
        ${actionError && html`<p class="error" role="alert">${sentence(actionError.message)}</p>`}
        <div class="toolbar">
          ${(a.status === 'firing' || a.status === 'pending') &&
          html`<button type="button" class="primary" disabled=${busy} onClick=${() => act('acknowledge')}>Acknowledge</button>`}
          ${a.status !== 'resolved' && html`<button type="button" disabled=${busy} onClick=${() => act('resolve')}>Resolve</button>`}
          <button type="submit" disabled=${busy || !text.trim()}>Comment</button>
        </div>
      </form>`}
      <div class="columns">
        <section class="card" aria-labelledby="alert-history">
          <h2 id="alert-history">History</h2>
          <ol class="timeline">
            ${a.history.map(
              (h) => html`<li>
                <time datetime=${h.at}>${formatTime(h.at)}</time>
                <span>${h.from ? `${h.from} → ${h.to}` : h.to}${h.actor ? ` by ${h.actor}` : ''}${h.note ? ` — ${h.note}` : ''}</span>
              </li>`,
            )}
          </ol>
        </section>
        <section class="card" aria-labelledby="alert-comments">
          <h2 id="alert-comments">Comments</h2>
          ${a.comments.length === 0
            ? html`<p class="empty">No comments yet.</p>`
            : html`<ul class="comments">
                ${a.comments.map(
                  (c) => html`<li><p>${c.text}</p><p class="muted">${c.author} · ${formatTime(c.at)}</p></li>`,
                )}
              </ul>`}
        </section>
      </div>
    </section>
  `;
}
