// NetPulse's web UI: the session, the routes, the pages.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './app.css';
import { html } from './lib/html.js';
import { get, onSession, refresh } from './lib/api.js';
import { navigate, usePath } from './lib/router.js';
import { startLive } from './lib/live.js';
import { applyTheme } from './lib/theme.js';
import { Shell } from './components/shell.js';
import { Login } from './pages/login.js';
import { Overview } from './pages/overview.js';
import { Alerts } from './pages/alerts.js';
import { Devices } from './pages/devices.js';
import { DeviceDetail } from './pages/device.js';
import { DeviceForm } from './pages/device_form.js';
import { DeviceImport } from './pages/device_import.js';
import { Users } from './pages/users.js';
import { KpiEntry } from './pages/kpi.js';
import { AlertDetail } from './pages/alert.js';
import { ChangePassword } from './pages/password.js';
import { Dashboards } from './pages/dashboards.js';
import { Dashboard } from './pages/dashboard.js';
import { Explore } from './pages/explore.js';
import { ApiKeys } from './pages/api_keys.js';
import { Audit } from './pages/audit.js';
import { Channels } from './pages/channels.js';
import { DeliveryLog } from './pages/delivery_log.js';
import { IncidentDetail, Incidents } from './pages/incidents.js';
import { Silences } from './pages/silences.js';
import { Maintenance } from './pages/maintenance.js';
import { NotFound, NotYet } from './pages/not_found.js';

applyTheme();

function page(path, me) {
  if (path === '/') return html`<${Overview} />`;
  if (path === '/devices') return html`<${Devices} me=${me} />`;
  if (path === '/admin/users') return html`<${Users} me=${me} />`;
  if (path === '/admin/api-keys') return html`<${ApiKeys} me=${me} />`;
  if (path === '/admin/audit') return html`<${Audit} me=${me} />`;
  if (path === '/notifications' || path === '/notifications/channels') return html`<${Channels} me=${me} />`;
  if (path === '/notifications/log') return html`<${DeliveryLog} me=${me} />`;
  if (path === '/kpi') return html`<${KpiEntry} me=${me} />`;
  if (path === '/devices/new') return html`<${DeviceForm} />`;
  if (path === '/devices/import') return html`<${DeviceImport} />`;
  const editId = /^\/devices\/(\d+)\/edit$/.exec(path);
  if (editId) return html`<${DeviceForm} id=${editId[1]} />`;
  const deviceId = /^\/devices\/(\d+)\/?$/.exec(path);
  if (deviceId) return html`<${DeviceDetail} id=${deviceId[1]} me=${me} />`;
  if (path === '/alerts') return html`<${Alerts} me=${me} />`;
  if (path === '/alerts/incidents') return html`<${Incidents} />`;
  if (path === '/alerts/silences') return html`<${Silences} me=${me} />`;
  if (path === '/alerts/maintenance') return html`<${Maintenance} me=${me} />`;
  const incidentId = /^\/incidents\/(\d+)\/?$/.exec(path);
  if (incidentId) return html`<${IncidentDetail} id=${incidentId[1]} />`;
  if (path === '/explore') return html`<${Explore} />`;
  if (path === '/dashboards') return html`<${Dashboards} me=${me} />`;
  const dashboardId = /^\/dashboards\/(\d+)\/?$/.exec(path);
  if (dashboardId) return html`<${Dashboard} id=${dashboardId[1]} me=${me} />`;
  const alertId = /^\/alerts\/(\d+)\/?$/.exec(path);
  if (alertId) return html`<${AlertDetail} id=${alertId[1]} me=${me} />`;
  return html`<${NotFound} path=${path} />`;
}

function App() {
  const path = usePath();
  // undefined: finding out (the refresh cookie); null: signed out; else the caller (/auth/me).
  const [me, setMe] = useState(undefined);

  async function loadMe() {
    try {
      const r = await get('/api/v1/auth/me');
      setMe(r.data);
    } catch {
      setMe(null);
    }
  }

  useEffect(() => {
    refresh()
      .then((ok) => (ok ? loadMe() : setMe(null)))
      .catch(() => setMe(null));
    return onSession((active) => {
      if (!active) setMe(null);
    });
  }, []);

  useEffect(() => {
    if (me === null && path !== '/login') navigate('/login', true);
    if (me && path === '/login') navigate('/', true);
  }, [me, path]);

  useEffect(() => {
    document.title = me ? 'NetPulse' : 'Sign in · NetPulse';
    if (me !== undefined) startLive(Boolean(me));
  }, [me]);

  if (me === undefined) return html`<p class="boot">Loading NetPulse…</p>`;
  if (me === null) return html`<${Login} onDone=${loadMe} />`;
  const content =
    path === '/account/password'
      ? html`<${ChangePassword} onChanged=${() => setMe(null)} />`
      : page(path, me);
  return html`<${Shell} me=${me} path=${path}>${content}<//>`;
}

render(html`<${App} />`, document.getElementById('app'));
