// The user's in-app inbox in the header: unread messages from notification policies' in-app
// channels and the notifier's own notices (a channel failing, nobody on call), live over the
// feed's "notifications" topic; each links to its alert and is marked read when opened.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { useLiveReload } from '../lib/live.js';
import { formatAgo, formatCount } from '../lib/format.js';

export function Inbox() {
  const [items, setItems] = useState([]);
  const [unread, setUnread] = useState(0);

  async function load() {
    try {
      const r = await get('/api/v1/me/notifications?per_page=10');
      setItems(r.data);
      setUnread(r.pagination ? r.pagination.total : r.data.length);
    } catch {
      // The header stands without it.
    }
  }
  useEffect(() => {
    load();
  }, []);
  useLiveReload(['notifications'], load, { delay: 300 });

  async function open(n, e) {
    e.preventDefault();
    e.currentTarget.closest('details').open = false;
    await post(`/api/v1/me/notifications/${n.id}/read`).catch(() => {});
    load();
    if (n.alert_id) navigate(`/alerts/${n.alert_id}`);
  }
  async function readAll() {
    await post('/api/v1/me/notifications/read-all').catch(() => {});
    load();
  }

  const label = unread ? `Inbox, ${formatCount(unread)} unread` : 'Inbox, nothing unread';
  return html`<details class="inbox">
    <summary aria-label=${label}>Inbox${unread ? html` <span class="badge sev-critical" aria-hidden="true">${formatCount(unread)}</span>` : ''}</summary>
    <div class="inbox-menu">
      ${items.length === 0
        ? html`<p class="muted">Nothing unread.</p>`
        : html`<ul>
            ${items.map(
              (n) => html`<li>
                <a href=${n.alert_id ? `/alerts/${n.alert_id}` : '#'} onClick=${(e) => open(n, e)}>
                  <span class=${'badge sev-' + (n.severity || 'info')}>${n.severity || 'info'}</span> ${n.title}
                </a>
                <span class="muted"> ${formatAgo(n.created_at)}</span>
              </li>`,
            )}
          </ul>
          <button type="button" class="link" onClick=${readAll}>Mark all read</button>`}
    </div>
  </details>`;
}
