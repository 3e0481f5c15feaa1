// NetPulse's web UI: the session, the routes, the pages.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
// Every stylesheet, uPlot's too: pages loaded on demand bring no CSS of their own.
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { html } from './lib/html.js';
import { get, onSession, refresh } from './lib/api.js';
import { navigate, usePath } from './lib/router.js';
import { startLive } from './lib/live.js';
import { applyTheme } from './lib/theme.js';
import { Shell } from './components/shell.js';
import { Login } from './pages/login.js';
import { Overview } from './pages/overview.js';
import { NotFound, NotYet } from './pages/not_found.js';
import { lazyPage } from './lib/lazy.js';

// Pages loaded on demand (lib/lazy.js): the first load carries the shell and the overview.
const Alerts = lazyPage(() => import('./pages/alerts.js'), 'Alerts');
const Devices = lazyPage(() => import('./pages/devices.js'), 'Devices');
const DeviceDetail = lazyPage(() => import('./pages/device.js'), 'DeviceDetail');
const DeviceForm = lazyPage(() => import('./pages/device_form.js'), 'DeviceForm');
const DeviceImport = lazyPage(() => import('./pages/device_import.js'), 'DeviceImport');
const Users = lazyPage(() => import('./pages/users.js'), 'Users');
const KpiEntry = lazyPage(() => import('./pages/kpi.js'), 'KpiEntry');
const AlertDetail = lazyPage(() => import('./pages/alert.js'), 'AlertDetail');
const ChangePassword = lazyPage(() => import('./pages/password.js'), 'ChangePassword');
const Dashboards = lazyPage(() => import('./pages/dashboards.js'), 'Dashboards');
const Dashboard = lazyPage(() => import('./pages/dashboard.js'), 'Dashboard');
const Explore = lazyPage(() => import('./pages/explore.js'), 'Explore');
const ApiKeys = lazyPage(() => import('./pages/api_keys.js'), 'ApiKeys');
const Audit = lazyPage(() => import('./pages/audit.js'), 'Audit');
const Channels = lazyPage(() => import('./pages/channels.js'), 'Channels');
const DeliveryLog = lazyPage(() => import('./pages/delivery_log.js'), 'DeliveryLog');
const Silences = lazyPage(() => import('./pages/silences.js'), 'Silences');
const Maintenance = lazyPage(() => import('./pages/maintenance.js'), 'Maintenance');
const Rules = lazyPage(() => import('./pages/rules.js'), 'Rules');
const RuleEditor = lazyPage(() => import('./pages/rules.js'), 'RuleEditor');
const Incidents = lazyPage(() => import('./pages/incidents.js'), 'Incidents');
const IncidentDetail = lazyPage(() => import('./pages/incidents.js'), 'IncidentDetail');
const Policies = lazyPage(() => import('./pages/policies.js'), 'Policies');
const PolicyEditor = lazyPage(() => import('./pages/policies.js'), 'PolicyEditor');
const Oncall = lazyPage(() => import('./pages/oncall.js'), 'Oncall');
const OncallEditor = lazyPage(() => import('./pages/oncall.js'), 'OncallEditor');
const Discovery = lazyPage(() => import('./pages/discovery.js'), 'Discovery');
const DiscoveryJob = lazyPage(() => import('./pages/discovery.js'), 'DiscoveryJob');
const Organizations = lazyPage(() => import('./pages/organizations.js'), 'Organizations');
const System = lazyPage(() => import('./pages/system.js'), 'System');
const Settings = lazyPage(() => import('./pages/settings.js'), 'Settings');
const TopologyMap = lazyPage(() => import('./pages/map.js'), 'TopologyMap');

applyTheme();

function page(path, me) {
  if (path === '/') return html`<${Overview} />`;
  if (path === '/devices') return html`<${Devices} me=${me} />`;
  if (path === '/admin/users') return html`<${Users} me=${me} />`;
  if (path === '/admin/api-keys') return html`<${ApiKeys} me=${me} />`;
  if (path === '/admin/audit') return html`<${Audit} me=${me} />`;
  if (path === '/admin/organizations') return html`<${Organizations} me=${me} />`;
  if (path === '/admin/system') return html`<${System} me=${me} />`;
  if (path === '/admin/settings') return html`<${Settings} me=${me} />`;
  if (path === '/notifications' || path === '/notifications/channels') return html`<${Channels} me=${me} />`;
  if (path === '/notifications/log') return html`<${DeliveryLog} me=${me} />`;
  if (path === '/notifications/policies') return html`<${Policies} me=${me} />`;
  if (path === '/notifications/policies/new') return html`<${PolicyEditor} />`;
  const policyId = /^\/notifications\/policies\/(\d+)\/?$/.exec(path);
  if (policyId) return html`<${PolicyEditor} id=${policyId[1]} />`;
  if (path === '/notifications/oncall') return html`<${Oncall} me=${me} />`;
  if (path === '/notifications/oncall/new') return html`<${OncallEditor} />`;
  const scheduleId = /^\/notifications\/oncall\/(\d+)\/?$/.exec(path);
  if (scheduleId) return html`<${OncallEditor} id=${scheduleId[1]} />`;
  if (path === '/kpi') return html`<${KpiEntry} me=${me} />`;
  if (path === '/devices/new') return html`<${DeviceForm} />`;
  if (path === '/devices/import') return html`<${DeviceImport} />`;
  if (path === '/devices/discovery') return html`<${Discovery} me=${me} />`;
  const jobId = /^\/devices\/discovery\/([A-Za-z0-9_-]+)\/?$/.exec(path);
  if (jobId) return html`<${DiscoveryJob} id=${jobId[1]} me=${me} />`;
  const editId = /^\/devices\/(\d+)\/edit$/.exec(path);
  if (editId) return html`<${DeviceForm} id=${editId[1]} />`;
  const deviceId = /^\/devices\/(\d+)\/?$/.exec(path);
  if (deviceId) return html`<${DeviceDetail} id=${deviceId[1]} me=${me} />`;
  if (path === '/alerts') return html`<${Alerts} me=${me} />`;
  if (path === '/alerts/incidents') return html`<${Incidents} />`;
  if (path === '/alerts/rules') return html`<${Rules} me=${me} />`;
  if (path === '/alerts/rules/new') return html`<${RuleEditor} me=${me} />`;
  const ruleId = /^\/alerts\/rules\/(\d+)\/?$/.exec(path);
  if (ruleId) return html`<${RuleEditor} id=${ruleId[1]} me=${me} />`;
  if (path === '/alerts/silences') return html`<${Silences} me=${me} />`;
  if (path === '/alerts/maintenance') return html`<${Maintenance} me=${me} />`;
  const incidentId = /^\/incidents\/(\d+)\/?$/.exec(path);
  if (incidentId) return html`<${IncidentDetail} id=${incidentId[1]} />`;
  if (path === '/explore') return html`<${Explore} />`;
  if (path === '/map') return html`<${TopologyMap} />`;
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
