// The alert pages' own navigation: alerts, incidents, silences, maintenance windows.
import { html } from '../lib/html.js';

const tabs = [
  { path: '/alerts', label: 'Alerts' },
  { path: '/alerts/incidents', label: 'Incidents' },
  { path: '/alerts/rules', label: 'Rules' },
  { path: '/alerts/silences', label: 'Silences' },
  { path: '/alerts/maintenance', label: 'Maintenance' },
];

export function AlertsTabs() {
  const here = location.pathname;
  return html`<nav class="tabs" aria-label="Alert pages">
    <ul>
      ${tabs.map((t) => html`<li><a href=${t.path} aria-current=${here === t.path ? 'page' : undefined}>${t.label}</a></li>`)}
    </ul>
  </nav>`;
}
