// The frame of every signed-in page: the navigation, the theme picker, the user's menu.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { logout } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { setTheme, storedTheme, themes } from '../lib/theme.js';
import { timeZone } from '../lib/format.js';
import { useLiveState } from '../lib/live.js';
import { adminAllowed, adminHome } from './admin_tabs.js';
import { Inbox } from './inbox.js';

const sections = [
  { path: '/', label: 'Overview' },
  { path: '/devices', label: 'Devices' },
  { path: '/alerts', label: 'Alerts' },
  { path: '/map', label: 'Map' },
  { path: '/dashboards', label: 'Dashboards' },
  { path: '/explore', label: 'Explore' },
];

const themeNames = { system: 'System', light: 'Light', dark: 'Dark', contrast: 'High contrast' };

const liveNames = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function Shell({ me, path, children }) {
  const live = useLiveState();
  const [theme, pickTheme] = useState(storedTheme());
  const [menu, setMenu] = useState(false);
  const current = (p) => (p === '/' ? path === '/' : path.startsWith(p));
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/" aria-label="NetPulse overview">
        <img src="/favicon.svg" alt="" width="24" height="24" />
        <span>NetPulse</span>
      </a>
      <button
        class="menu-toggle"
        aria-expanded=${menu}
        aria-controls="nav"
        onClick=${() => setMenu(!menu)}
      >
        Menu
      </button>
      <nav id="nav" class=${menu ? 'open' : ''} aria-label="Main">
        <ul>
          ${sections
            .concat(me.permissions.includes('notifications:read') ? [{ path: '/notifications/channels', label: 'Notifications', prefix: '/notifications' }] : [])
            .concat(me.permissions.includes('metrics:write') ? [{ path: '/kpi', label: 'KPI entry' }] : [])
            .concat(adminAllowed(me) ? [{ path: adminHome(me), label: 'Admin', prefix: '/admin/' }] : [])
            .map(
            (s) => html`<li>
              <a
                href=${s.path}
                aria-current=${current(s.prefix || s.path) ? 'page' : undefined}
                onClick=${() => setMenu(false)}
                >${s.label}</a
              >
            </li>`,
          )}
        </ul>
      </nav>
      <div class="tools">
        <span class=${'live live-' + live} role="status" aria-live="polite">
          <span class="dot" aria-hidden="true"></span>${liveNames[live]}
        </span>
        ${me.type !== 'api_key' && html`<${Inbox} />`}
        <label class="theme">
          <span class="sr-only">Theme</span>
          <select
            value=${theme}
            onChange=${(e) => {
              setTheme(e.currentTarget.value);
              pickTheme(e.currentTarget.value);
            }}
          >
            ${themes.map((t) => html`<option value=${t}>${themeNames[t]}</option>`)}
          </select>
        </label>
        <details class="user">
          <summary>${me.name || me.email}</summary>
          <div
            class="user-menu"
            onClick=${(e) => {
              // Whatever was chosen, the menu closes.
              if (e.target.closest('a, button')) e.currentTarget.parentElement.open = false;
            }}
          >
            <p class="muted">${me.email}<br />${me.role} · times in ${timeZone}</p>
            <a href="/account/password">Change password</a>
            <button
              type="button"
              class="link"
              onClick=${async () => {
                await logout();
                navigate('/login', true);
              }}
            >
              Sign out
            </button>
          </div>
        </details>
      </div>
    </header>
    <main id="main" tabindex="-1">${children}</main>
  `;
}
