// The device list: search, filters by status and type, sort by column, pages of 100 (the API
// pages, so 10,000 devices cost one page each), live status over the feed. Filters live in the
// URL, so a view can be bookmarked and the overview's tiles link into it. Those who may change
// devices select rows and act on them at once (POST /api/v1/devices/bulk): enable, disable,
// maintenance, tags, groups, delete (asked again first); the answer says what failed and why.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { useLive } from '../lib/live.js';
import { useSelection } from '../lib/selection.js';
import { formatAgo, formatCount, formatTime, sentence } from '../lib/format.js';

const statuses = ['', 'up', 'down', 'unreachable', 'maintenance', 'unknown'];
const types = ['', 'router', 'switch', 'olt', 'server', 'cpe', 'ap', 'other'];
const columns = [
  ['name', 'Name'],
  ['address', 'Address'],
  ['type', 'Type'],
  ['status', 'Status'],
  ['vendor', 'Vendor'],
  ['last_seen', 'Last seen'],
];
const perPage = 100;
// The bulk actions: what the API calls them, how the menu and the outcome say them, and whether
// they take a tag or a group.
const actions = [
  ['enable', 'Enable polling', 'enabled'],
  ['disable', 'Disable polling', 'disabled'],
  ['maintenance_on', 'Put in maintenance', 'put in maintenance'],
  ['maintenance_off', 'End maintenance', 'taken out of maintenance'],
  ['add_tags', 'Add a tag', 'tagged', 'tag'],
  ['remove_tags', 'Remove a tag', 'untagged', 'tag'],
  ['add_groups', 'Add to a group', 'added to the group', 'group'],
  ['remove_groups', 'Remove from a group', 'removed from the group', 'group'],
  ['delete', 'Delete', 'deleted'],
];
const typeNames = { olt: 'OLT', cpe: 'CPE', ap: 'Access point' };

export function Devices({ me }) {
  const params = new URLSearchParams(location.search);
  const [search, setSearch] = useState(params.get('q') || '');
  const [status, setStatus] = useState(statuses.includes(params.get('status')) ? params.get('status') : '');
  const [type, setType] = useState(types.includes(params.get('type')) ? params.get('type') : '');
  const [sort, setSort] = useState(params.get('sort') || 'name');
  const [page, setPage] = useState(Number(params.get('page')) || 1);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const version = useRef(0);
  const typing = useRef(null);
  const canWrite = me.permissions.includes('devices:write');
  const [selected, setSelected, toggle] = useSelection();
  const [action, setAction] = useState('enable');
  const [argument, setArgument] = useState('');
  const [groups, setGroups] = useState([]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState(null);

  async function load() {
    const mine = ++version.current;
    const q = new URLSearchParams();
    if (search.trim()) q.set('q', search.trim());
    if (status) q.set('status', status);
    if (type) q.set('type', type);
    if (sort !== 'name') q.set('sort', sort);
    if (page > 1) q.set('page', String(page));
    const shown = q.toString();
    history.replaceState(null, '', '/devices' + (shown ? '?' + shown : ''));
    q.set('per_page', String(perPage));
    if (!q.has('sort')) q.set('sort', sort);
    try {
      const r = await get('/api/v1/devices?' + q.toString());
      if (mine !== version.current) return;
      setData(r);
      setError(null);
    } catch (e) {
      if (mine === version.current) setError(e);
    }
  }

  useEffect(() => {
    clearTimeout(typing.current);
    typing.current = setTimeout(load, 200);
    return () => clearTimeout(typing.current);
  }, [search, status, type, sort, page]);

  // A device's status changed: patch the row in place, or reload when the filter may change.
  useLive(['devices'], (msg) => {
    if (msg.type === 'reload') return load();
    // A device added or removed (by someone else, an import, a bulk action): read the page again.
    if (msg.type === 'device_changed' && msg.data.change !== 'updated') return load();
    if (msg.type !== 'device_status') return;
    if (status) return load();
    setData((d) =>
      d && d.data.some((x) => x.id === msg.data.device_id)
        ? { ...d, data: d.data.map((x) => (x.id === msg.data.device_id ? { ...x, status: msg.data.to, status_changed_at: msg.data.at } : x)) }
        : d,
    );
  });

  const kind = (actions.find((a) => a[0] === action) || [])[3];
  useEffect(() => {
    if (kind !== 'group' || groups.length) return;
    get('/api/v1/device-groups?per_page=500')
      .then((r) => setGroups(r.data))
      .catch(() => {});
  }, [kind]);

  async function apply() {
    const [, , done, needs] = actions.find((a) => a[0] === action);
    const ids = [...selected];
    const body = { ids, action };
    if (needs) {
      if (!argument.trim()) return setOutcome({ error: { message: `Name the ${needs} first` } });
      body[needs === 'tag' ? 'tags' : 'groups'] = [argument.trim()];
    }
    setBusy(true);
    setOutcome(null);
    setConfirming(false);
    try {
      const r = await post('/api/v1/devices/bulk', body);
      setOutcome({
        text: `${formatCount(r.data.done.length)} device${r.data.done.length === 1 ? '' : 's'} ${done}${needs ? ` ${argument.trim()}` : ''}.`,
        failed: r.data.failed.map((f) => `device ${f.id}: ${sentence(f.message)}`),
      });
      setSelected(new Set(r.data.failed.map((f) => f.id)));
      await load();
    } catch (e) {
      setOutcome({ error: e });
    } finally {
      setBusy(false);
    }
  }

  const rows = data ? data.data : [];
  const total = data ? data.pagination.total : 0;
  const pages = Math.max(1, Math.ceil(total / perPage));
  const allSelected = rows.length > 0 && rows.every((d) => selected.has(d.id));
  const sortBy = (col) => {
    setPage(1);
    setSort(sort === col ? '-' + col : col);
  };
  const ariaSort = (col) => (sort === col ? 'ascending' : sort === '-' + col ? 'descending' : undefined);

  return html`
    <section class="page">
      <h1>Devices</h1>
      ${canWrite &&
      html`<p class="toolbar"><a class="button" href="/devices/new">Add a device</a> <a class="button" href="/devices/import">Import from CSV</a> <a class="button" href="/devices/discovery">Discover devices</a></p>`}
      <div class="toolbar" role="search">
        <label class="inline">
          Search
          <input type="search" value=${search} placeholder="name, address, vendor…" onInput=${(e) => { setPage(1); setSearch(e.currentTarget.value); }} />
        </label>
        <label class="inline">
          Status
          <select value=${status} onChange=${(e) => { setPage(1); setStatus(e.currentTarget.value); }}>
            ${statuses.map((s) => html`<option value=${s}>${s ? sentence(s) : 'All'}</option>`)}
          </select>
        </label>
        <label class="inline">
          Type
          <select value=${type} onChange=${(e) => { setPage(1); setType(e.currentTarget.value); }}>
            ${types.map((t) => html`<option value=${t}>${typeNames[t] || sentence(t) || 'All'}</option>`)}
          </select>
        </label>
      </div>
      ${canWrite && selected.size > 0 &&
      html`<div class="toolbar bulk" role="group" aria-label="Selected devices">
        <span>${formatCount(selected.size)} selected</span>
        <label class="inline">Action
          <select value=${action} onChange=${(e) => { setAction(e.currentTarget.value); setArgument(''); setConfirming(false); }}>
            ${actions.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select></label>
        ${kind === 'tag' && html`<label class="inline">Tag <input value=${argument} maxlength="256" onInput=${(e) => setArgument(e.currentTarget.value)} /></label>`}
        ${kind === 'group' &&
        html`<label class="inline">Group
          <select value=${argument} onChange=${(e) => setArgument(e.currentTarget.value)}>
            <option value="">Choose…</option>
            ${groups.map((g) => html`<option value=${g.name}>${g.name}</option>`)}
          </select></label>`}
        ${action === 'delete' && confirming
          ? html`<span role="alert">Delete ${formatCount(selected.size)} device${selected.size === 1 ? '' : 's'}? Their parent links go with them.</span>
              <button type="button" class="danger" disabled=${busy} onClick=${apply}>Yes, delete</button>
              <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>`
          : html`<button type="button" disabled=${busy} onClick=${() => (action === 'delete' ? setConfirming(true) : apply())}>Apply to selected</button>`}
        <button type="button" class="link" onClick=${() => setSelected(new Set())}>Clear selection</button>
      </div>`}
      ${outcome &&
      html`<div class=${outcome.error || outcome.failed.length ? 'error' : 'notice'} role="status">
        ${outcome.error
          ? sentence(outcome.error.message)
          : html`${outcome.text}${outcome.failed.length ? html` Not done (still selected): ${outcome.failed.join('; ')}` : ''}`}
      </div>`}
      ${error && html`<p class="error" role="alert">Could not load the devices. ${sentence(error.message)}</p>`}
      ${!data && !error && html`<p class="muted" aria-busy="true">Loading…</p>`}
      ${data && rows.length === 0 && html`<p class="empty">No devices match.</p>`}
      ${rows.length > 0 &&
      html`<table class="list devices">
          <caption class="sr-only">Devices, ${formatCount(total)} match</caption>
          <thead>
            <tr>
              ${canWrite &&
              html`<th scope="col">
                <input type="checkbox" aria-label="Select all on this page" checked=${allSelected}
                  onChange=${() => setSelected(allSelected ? new Set() : new Set(rows.map((d) => d.id)))} />
              </th>`}
              ${columns.map(
                ([col, label]) => html`<th scope="col" aria-sort=${ariaSort(col)} class=${col === 'vendor' || col === 'last_seen' ? 'wide-only' : undefined}>
                  <button type="button" class="sort" onClick=${() => sortBy(col)}>
                    ${label}${sort === col ? ' ▲' : sort === '-' + col ? ' ▼' : ''}
                  </button>
                </th>`,
              )}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (d) => html`<tr key=${d.id}>
                ${canWrite && html`<td><input type="checkbox" aria-label=${`Select ${d.name}`} checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>`}
                <td><a href=${'/devices/' + d.id}>${d.name}</a>${d.enabled ? '' : html` <span class="muted">(disabled)</span>`}</td>
                <td><code>${d.address}</code></td>
                <td>${d.type}</td>
                <td><span class=${'status-pill status-' + d.status}>${d.status}</span></td>
                <td class="wide-only">${[d.vendor, d.model].filter(Boolean).join(' ') || '—'}</td>
                <td class="wide-only" title=${formatTime(d.last_seen)}>${d.last_seen ? formatAgo(d.last_seen) : 'never'}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
          <span>Page ${page} of ${pages} · ${formatCount(total)} devices</span>
          <button type="button" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Next</button>
        </nav>`}
    </section>
  `;
}
