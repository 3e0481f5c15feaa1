// The alerts console: open alerts first, filters by status and severity, acknowledge and resolve
// one or many (POST /api/v1/alerts/bulk), live over the feed, and an optional browser
// notification for each new critical alert.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { useLiveReload } from '../lib/live.js';
import { useSelection } from '../lib/selection.js';
import { formatAgo, formatCount, formatTime, sentence } from '../lib/format.js';
import { AlertsTabs } from '../components/alerts_tabs.js';

const shows = {
  open: { label: 'Open', query: 'open=true' },
  firing: { label: 'Firing', query: 'status=firing,pending' },
  acknowledged: { label: 'Acknowledged', query: 'status=acknowledged' },
  resolved: { label: 'Resolved', query: 'status=resolved' },
  all: { label: 'All', query: '' },
};
const severities = ['', 'critical', 'warning', 'info'];
const perPage = 100;

function notifyEnabled() {
  return localStorage.getItem('netpulse.notify-critical') === '1';
}

function soundEnabled() {
  return localStorage.getItem('netpulse.sound-critical') === '1';
}

// Two short tones (Web Audio: no sound file to fetch), for a new critical alert.
let audio = null;
function chime() {
  try {
    audio = audio || new AudioContext();
    const t = audio.currentTime;
    for (const [i, freq] of [880, 660].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.3, t + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + i * 0.25);
      osc.stop(t + i * 0.25 + 0.24);
    }
  } catch {
    // No audio here: the list and the notification still tell.
  }
}

export function Alerts({ me }) {
  const params = new URLSearchParams(location.search);
  const [show, setShow] = useState(shows[params.get('show')] ? params.get('show') : 'open');
  const [severity, setSeverity] = useState(severities.includes(params.get('severity')) ? params.get('severity') : '');
  const [page, setPage] = useState(1);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [selected, setSelected, toggle] = useSelection();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState(null);
  const [notify, setNotify] = useState(notifyEnabled());
  const [sound, setSound] = useState(soundEnabled());
  const canAct = me.permissions.includes('alerts:write');
  const version = useRef(0);

  async function load() {
    const mine = ++version.current;
    const q = [shows[show].query, severity && `severity=${severity}`, `page=${page}`, `per_page=${perPage}`]
      .filter(Boolean)
      .join('&');
    try {
      const r = await get(`/api/v1/alerts?${q}`);
      if (mine !== version.current) return;
      setData(r);
      setError(null);
      setSelected((s) => new Set([...s].filter((id) => r.data.some((a) => a.id === id))));
    } catch (e) {
      if (mine === version.current) setError(e);
    }
  }

  useEffect(() => {
    const q = new URLSearchParams();
    if (show !== 'open') q.set('show', show);
    if (severity) q.set('severity', severity);
    const search = q.toString();
    history.replaceState(null, '', '/alerts' + (search ? '?' + search : ''));
    load();
  }, [show, severity, page]);

  useLiveReload(['alerts'], load, {
    onMessage: (msg) => {
      if (msg.type === 'alert' && msg.data.transition === 'firing' && msg.data.severity === 'critical') {
        if (soundEnabled()) chime();
        if (notifyEnabled() && 'Notification' in window && Notification.permission === 'granted') {
          new Notification(`Critical: ${msg.data.annotations.summary || msg.data.rule_name}`, {
            body: msg.data.device_name || msg.data.subject,
            tag: `alert-${msg.data.id}`,
          });
        }
      }
    },
  });

  async function act(action, ids) {
    setBusy(true);
    setOutcome(null);
    try {
      const r = await post('/api/v1/alerts/bulk', { action, ids });
      const failed = r.data.results.filter((x) => !x.ok);
      setOutcome({
        action,
        succeeded: r.data.succeeded,
        failed: failed.map((x) => `#${x.id}: ${sentence(x.error.message)}`),
      });
      setSelected(new Set());
      await load();
    } catch (e) {
      setOutcome({ action, error: e });
    } finally {
      setBusy(false);
    }
  }

  async function toggleNotify(on) {
    if (on && 'Notification' in window && Notification.permission === 'default') {
      await Notification.requestPermission();
    }
    localStorage.setItem('netpulse.notify-critical', on ? '1' : '0');
    setNotify(on);
  }

  const rows = data ? data.data : [];
  const total = data ? data.pagination.total : 0;
  const pages = Math.max(1, Math.ceil(total / perPage));
  const allSelected = rows.length > 0 && rows.every((a) => selected.has(a.id));

  return html`
    <section class="page">
      <${AlertsTabs} />
      <h1>Alerts</h1>
      <div class="toolbar" role="group" aria-label="Filters">
        <label class="inline">
          Show
          <select value=${show} onChange=${(e) => { setPage(1); setShow(e.currentTarget.value); }}>
            ${Object.entries(shows).map(([k, v]) => html`<option value=${k}>${v.label}</option>`)}
          </select>
        </label>
        <label class="inline">
          Severity
          <select value=${severity} onChange=${(e) => { setPage(1); setSeverity(e.currentTarget.value); }}>
            ${severities.map((s) => html`<option value=${s}>${s ? sentence(s) : 'All'}</option>`)}
          </select>
        </label>
        <label class="inline check">
          <input type="checkbox" checked=${notify} onChange=${(e) => toggleNotify(e.currentTarget.checked)} />
          Notify me of new critical alerts
        </label>
        <label class="inline check">
          <input type="checkbox" checked=${sound} onChange=${(e) => {
            const on = e.currentTarget.checked;
            localStorage.setItem('netpulse.sound-critical', on ? '1' : '0');
            setSound(on);
            if (on) chime();
          }} />
          Sound for new critical alerts
        </label>
      </div>
      ${canAct &&
      html`<div class="toolbar bulk" role="group" aria-label="Selected alerts">
        <span>${formatCount(selected.size)} selected</span>
        <button type="button" disabled=${busy || selected.size === 0} onClick=${() => act('acknowledge', [...selected])}>
          Acknowledge selected
        </button>
        <button type="button" disabled=${busy || selected.size === 0} onClick=${() => act('resolve', [...selected])}>
          Resolve selected
        </button>
      </div>`}
      ${outcome &&
      html`<div class=${outcome.error || outcome.failed.length ? 'error' : 'notice'} role="status">
        ${outcome.error
          ? sentence(outcome.error.message)
          : `${outcome.action === 'acknowledge' ? 'Acknowledged' : 'Resolved'} ${formatCount(
              outcome.succeeded,
            )}${outcome.failed.length ? `; not done: ${outcome.failed.join('; ')}` : ''}`}
      </div>`}
      ${error && html`<p class="error" role="alert">Could not load the alerts. ${sentence(error.message)}</p>`}
      ${!data && !error && html`<p class="muted" aria-busy="true">Loading…</p>`}
      ${data && rows.length === 0 && html`<p class="empty">No alerts match.</p>`}
      ${rows.length > 0 &&
      html`<table class="list alerts">
        <caption class="sr-only">Alerts, ${formatCount(total)} in all</caption>
        <thead>
          <tr>
            ${canAct &&
            html`<th scope="col">
              <input
                type="checkbox"
                aria-label="Select all on this page"
                checked=${allSelected}
                onChange=${() => setSelected(allSelected ? new Set() : new Set(rows.map((a) => a.id)))}
              />
            </th>`}
            <th scope="col">Severity</th>
            <th scope="col">Alert</th>
            <th scope="col">Status</th>
            <th scope="col">Since</th>
            ${canAct && html`<th scope="col"><span class="sr-only">Actions</span></th>`}
          </tr>
        </thead>
        <tbody>
          ${rows.map((a) => {
            const title = a.annotations.summary || a.rule_name;
            return html`<tr key=${a.id} class=${a.symptom_of ? 'symptom' : ''}>
              ${canAct &&
              html`<td>
                <input type="checkbox" aria-label=${`Select ${title}`} checked=${selected.has(a.id)} onChange=${() => toggle(a.id)} />
              </td>`}
              <td><span class=${'badge sev-' + a.severity}>${a.severity}</span></td>
              <td>
                <a href=${'/alerts/' + a.id}>${title}</a>
                <div class="muted">
                  ${a.device_name || a.subject}${a.value !== null && a.value !== undefined
                    ? ` · value ${a.value}${a.threshold !== null ? ` (threshold ${a.threshold})` : ''}`
                    : ''}${a.symptom_of ? ` · symptom of #${a.symptom_of}` : ''}
                </div>
              </td>
              <td>
                ${a.status}${a.acknowledged_by_name ? html`<div class="muted">by ${a.acknowledged_by_name}</div>` : ''}
                ${a.silenced ? html`<div class="muted">silenced</div>` : ''}
              </td>
              <td title=${formatTime(a.started_at)}>${formatAgo(a.started_at)}</td>
              ${canAct &&
              html`<td class="actions">
                ${(a.status === 'firing' || a.status === 'pending') &&
                html`<button type="button" disabled=${busy} aria-label=${`Acknowledge ${title}`} onClick=${() => act('acknowledge', [a.id])}>Acknowledge</button>`}
                ${a.status !== 'resolved' &&
                html`<button type="button" disabled=${busy} aria-label=${`Resolve ${title}`} onClick=${() => act('resolve', [a.id])}>Resolve</button>`}
              </td>`}
            </tr>`;
          })}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
        <span>Page ${page} of ${pages} · ${formatCount(total)} alerts</span>
        <button type="button" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Next</button>
      </nav>`}
    </section>
  `;
}
