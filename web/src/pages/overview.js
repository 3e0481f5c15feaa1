// The overview: devices by status, open alerts by severity, the newest open alerts and the
// latest events. Reloaded when the live feed says an alert, incident or device status changed
// (at most every half second), and every 60 s besides.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get } from '../lib/api.js';
import { useLiveReload } from '../lib/live.js';
import { formatAgo, formatCount, formatTime, sentence } from '../lib/format.js';

const statuses = ['up', 'down', 'unreachable', 'maintenance', 'unknown'];
const severities = ['critical', 'warning', 'info'];

// One request (GET /api/v1/overview): a page must not spend its user's rate limit.
async function load() {
  const r = await get('/api/v1/overview');
  return {
    devices: r.data.devices,
    alertCounts: r.data.alerts,
    alerts: r.data.open_alerts,
    events: r.data.events,
    at: Date.now(),
  };
}

export function Overview() {
  const [state, setState] = useState(null);
  const [error, setError] = useState(null);
  const tick = useRef(() => {});
  useEffect(() => {
    let stop = false;
    let timer = null;
    tick.current = async () => {
      clearTimeout(timer);
      try {
        const s = await load();
        if (!stop) {
          setState(s);
          setError(null);
        }
      } catch (e) {
        if (!stop) setError(e);
      }
      if (!stop) timer = setTimeout(() => tick.current(), 60000);
    };
    tick.current();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);
  useLiveReload(['alerts', 'incidents', 'devices', 'events'], () => tick.current(), { delay: 500 });

  if (!state && error) {
    return html`<section class="page"><h1>Overview</h1>
      <p class="error" role="alert">Could not load the overview. ${sentence(error.message)}</p></section>`;
  }
  if (!state) {
    return html`<section class="page" aria-busy="true"><h1>Overview</h1>
      <p class="muted">Loading…</p></section>`;
  }
  const deviceCount = state.devices.total;
  return html`
    <section class="page">
      <h1>Overview</h1>
      ${error && html`<p class="error" role="alert">Not refreshed. ${sentence(error.message)}</p>`}
      <h2 class="sr-only">Devices by status</h2>
      <ul class="tiles" aria-label="Devices by status">
        ${statuses.map(
          (s) => html`<li class=${'tile status-' + s}>
            <a href=${'/devices?status=' + s}>
              <span class="tile-count">${formatCount(state.devices[s])}</span>
              <span class="tile-label">${s}</span>
            </a>
          </li>`,
        )}
      </ul>
      <p class="muted">${formatCount(deviceCount)} devices · updated ${formatTime(state.at / 1000)}</p>

      <div class="columns">
        <section class="card" aria-labelledby="open-alerts">
          <h2 id="open-alerts">Open alerts</h2>
          <ul class="counts">
            ${severities.map(
              (s) => html`<li class=${'sev-' + s}>
                <span class="badge">${s}</span> ${formatCount(state.alertCounts[s])}
              </li>`,
            )}
          </ul>
          ${state.alerts.length === 0
            ? html`<p class="empty">No open alerts. All quiet.</p>`
            : html`<table class="list">
                <caption class="sr-only">The newest open alerts</caption>
                <thead>
                  <tr><th scope="col">Severity</th><th scope="col">Alert</th><th scope="col">Since</th></tr>
                </thead>
                <tbody>
                  ${state.alerts.map(
                    (a) => html`<tr>
                      <td><span class=${'badge sev-' + a.severity}>${a.severity}</span></td>
                      <td>
                        <a href=${'/alerts/' + a.id}>${a.annotations.summary || a.rule_name}</a>
                        <div class="muted">${a.device_name || a.subject} · ${a.status}</div>
                      </td>
                      <td title=${formatTime(a.started_at)}>${formatAgo(a.started_at)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`}
        </section>
        <section class="card" aria-labelledby="recent-events">
          <h2 id="recent-events">Recent events</h2>
          ${state.events.length === 0
            ? html`<p class="empty">No events yet.</p>`
            : html`<ul class="events">
                ${state.events.map(
                  (e) => html`<li>
                    <span class=${'badge sev-' + e.severity}>${e.kind}</span>
                    <span>${e.message}</span>
                    <time datetime=${e.at} title=${formatTime(e.at)}>${formatAgo(e.at)}</time>
                  </li>`,
                )}
              </ul>`}
        </section>
      </div>
    </section>
  `;
}
