// The administration pages' own navigation: users, API keys, the audit log, organizations (system
// administrators), the system's status, its settings (system administrators), each shown to the roles that may read it.
import { html } from '../lib/html.js';

const tabs = [
  { path: '/admin/users', label: 'Users', permission: 'users:read' },
  { path: '/admin/api-keys', label: 'API keys', permission: 'api_keys:read' },
  { path: '/admin/audit', label: 'Audit log', permission: 'audit:read' },
  { path: '/admin/organizations', label: 'Organizations', permission: 'orgs:admin' },
  { path: '/admin/system', label: 'System', permission: 'audit:read' },
  { path: '/admin/settings', label: 'Settings', permission: 'settings:admin' },
];

export function adminAllowed(me) {
  return tabs.some((t) => me.permissions.includes(t.permission));
}

export function adminHome(me) {
  const t = tabs.find((x) => me.permissions.includes(x.permission));
  return t ? t.path : '/admin/users';
}

export function AdminTabs({ me }) {
  const here = location.pathname;
  return html`<nav class="tabs" aria-label="Administration">
    <ul>
      ${tabs
        .filter((t) => me.permissions.includes(t.permission))
        .map((t) => html`<li><a href=${t.path} aria-current=${here === t.path ? 'page' : undefined}>${t.label}</a></li>`)}
    </ul>
  </nav>`;
}
