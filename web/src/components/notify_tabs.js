// The notification pages' own navigation: channels, policies, on-call schedules, the delivery log.
import { html } from '../lib/html.js';

const tabs = [
  { path: '/notifications/channels', label: 'Channels' },
  { path: '/notifications/policies', label: 'Policies' },
  { path: '/notifications/oncall', label: 'On call' },
  { path: '/notifications/log', label: 'Delivery log' },
];

export function NotifyTabs() {
  const here = location.pathname;
  return html`<nav class="tabs" aria-label="Notifications">
    <ul>
      ${tabs.map((t) => html`<li><a href=${t.path} aria-current=${here === t.path || here.startsWith(t.path + '/') ? 'page' : undefined}>${t.label}</a></li>`)}
    </ul>
  </nav>`;
}
