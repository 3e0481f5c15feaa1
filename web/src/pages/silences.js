// Silences: mute the alerts that match (labels, devices, tags, rules) for a time, with a reason.
// Muted alerts are still raised and shown, marked silenced, and not notified. The list shows the
// active ones (and, on request, those that ended); operators add and end them. An alert's page
// links here with its device and rule filled in (?device=..&rule=..).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, post } from '../lib/api.js';
import { formatAgo, formatTime, sentence } from '../lib/format.js';
import { AlertsTabs } from '../components/alerts_tabs.js';
import { labelled } from '../components/field.js';
import { useApi } from '../lib/use_api.js';

const durations = { 3600: '1 hour', 7200: '2 hours', 14400: '4 hours', 28800: '8 hours', 86400: '1 day', 604800: '1 week' };

// "ifName=~xe-.*" lines -> matchers; an error names the line.
function parseMatchers(text) {
  const out = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: "${line}" is not name=value, name!=value, name=~regex or name!~regex`);
    out.push({ name: m[1], op: m[2], value: m[3].replace(/^"(.*)"$/, '$1') });
  });
  return out;
}

function criteria(s, devices, rules) {
  const parts = s.matchers.map((m) => `${m.name}${m.op}${m.value}`);
  for (const d of s.device_ids) parts.push(`device ${devices[d] || d}`);
  for (const t of s.tags) parts.push(`tag ${t}`);
  for (const r of s.rule_ids) parts.push(`rule “${rules[r] || r}”`);
  if (s.group_ids.length) parts.push(`${s.group_ids.length} group(s)`);
  return parts.join(' · ');
}

export function Silences({ me }) {
  const params = new URLSearchParams(location.search);
  const [expired, setExpired] = useState(false);
  const [devices, setDevices] = useState({});
  const [rules, setRules] = useState({});
  const [form, setForm] = useState({
    matchers: '',
    device: params.get('device') || '',
    tags: '',
    rule: params.get('rule') || '',
    duration: '7200',
    reason: '',
  });
  const [formError, setFormError] = useState(null);
  const [notice, setNotice] = useState(null);
  const canWrite = me.permissions.includes('alerts:write');

  const { data: list, error, reload: load } = useApi(`/api/v1/silences${expired ? '?expired=true' : ''}`);
  useEffect(() => {
    get('/api/v1/devices?per_page=500&sort=name')
      .then((r) => setDevices(Object.fromEntries(r.data.map((d) => [d.id, d.name]))))
      .catch(() => {});
    get('/api/v1/alert-rules?per_page=500')
      .then((r) => setRules(Object.fromEntries(r.data.map((x) => [x.id, x.name]))))
      .catch(() => {});
  }, []);

  async function create(e) {
    e.preventDefault();
    setFormError(null);
    let matchers;
    try {
      matchers = parseMatchers(form.matchers);
    } catch (err) {
      return setFormError({ field: 'matchers', message: err.message });
    }
    const now = Math.floor(Date.now() / 1000);
    const body = {
      matchers,
      device_ids: form.device ? [Number(form.device)] : [],
      tags: form.tags.split(',').map((t) => t.trim()).filter(Boolean),
      rule_ids: form.rule ? [Number(form.rule)] : [],
      starts_at: now,
      ends_at: now + Number(form.duration),
      reason: form.reason.trim(),
    };
    try {
      await post('/api/v1/silences', body);
      setNotice({ ok: true, text: `Silenced until ${formatTime(body.ends_at)}` });
      setForm({ ...form, matchers: '', reason: '' });
      load();
    } catch (err) {
      setFormError(err);
    }
  }

  async function end(s) {
    try {
      await del(`/api/v1/silences/${s.id}`);
      setNotice({ ok: true, text: 'Silence ended' });
      load();
    } catch (e) {
      setNotice({ ok: false, text: sentence(e.message) });
    }
  }

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const fieldKey = (f) => (f ? f.replace(/\[\d+\].*$/, '').replace(/_ids$/, '') : null);
  const msg = (k) => (formError && fieldKey(formError.field) === k ? sentence(formError.message.replace(/^[^:]*: /, '')) : null);
  const field = (id, label, k, control) => labelled(id, label, msg(k), control);
  const known = ['matchers', 'device', 'tags', 'rule', 'reason', 'ends_at', 'starts_at', 'silence'];

  return html`<section class="page">
    <${AlertsTabs} />
    <h1>Silences</h1>
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${canWrite &&
    html`<form class="card grid-form" onSubmit=${create} aria-labelledby="new-silence">
      <h2 id="new-silence">Silence alerts</h2>
      ${field('si-matchers', 'Labels (one name=value, name=~regex, name!=value a line)', 'matchers', (a) => html`<textarea ...${a} rows="2" value=${form.matchers} onInput=${set('matchers')}></textarea>`)}
      ${field('si-device', 'Device', 'device', (a) => html`<select ...${a} value=${form.device} onChange=${set('device')}>
        <option value="">Any device</option>
        ${Object.entries(devices).map(([id, name]) => html`<option value=${id}>${name}</option>`)}
      </select>`)}
      ${field('si-tags', 'Device tags (comma-separated)', 'tags', (a) => html`<input ...${a} value=${form.tags} onInput=${set('tags')} />`)}
      ${field('si-rule', 'Rule', 'rule', (a) => html`<select ...${a} value=${form.rule} onChange=${set('rule')}>
        <option value="">Any rule</option>
        ${Object.entries(rules).map(([id, name]) => html`<option value=${id}>${name}</option>`)}
      </select>`)}
      ${field('si-duration', 'For', 'ends_at', (a) => html`<select ...${a} value=${form.duration} onChange=${set('duration')}>
        ${Object.entries(durations).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
      </select>`)}
      ${field('si-reason', 'Reason', 'reason', (a) => html`<input ...${a} required value=${form.reason} onInput=${set('reason')} />`)}
      ${formError && !known.includes(fieldKey(formError.field)) && html`<p class="error" role="alert">${sentence(formError.message)}</p>`}
      ${formError && fieldKey(formError.field) === 'silence' && html`<p class="error" role="alert">${sentence(formError.message)}</p>`}
      <div><button type="submit" class="primary">Silence</button></div>
    </form>`}
    <div class="toolbar">
      <label class="check"><input type="checkbox" checked=${expired} onChange=${(e) => setExpired(e.currentTarget.checked)} /> Also those that ended</label>
    </div>
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${list &&
    (list.length === 0
      ? html`<p class="empty">No silences${expired ? '' : ' in force'}.</p>`
      : html`<table class="list">
          <caption class="sr-only">Silences</caption>
          <thead><tr><th scope="col">What</th><th scope="col">Reason</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">By</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>
            ${list.map(
              (s) => html`<tr>
                <td>${criteria(s, devices, rules)}</td>
                <td>${s.reason}</td>
                <td>${formatTime(s.starts_at)}</td>
                <td>${formatTime(s.ends_at)}${s.ends_at * 1000 < Date.now() ? html`<br /><span class="muted">ended ${formatAgo(s.ends_at)}</span>` : ''}</td>
                <td>${s.created_by_name || '—'}</td>
                ${canWrite && html`<td class="actions">${s.ends_at * 1000 > Date.now() && html`<button type="button" onClick=${() => end(s)}>End<span class="sr-only"> the silence: ${s.reason}</span></button>`}</td>`}
              </tr>`,
            )}
          </tbody>
        </table>`)}
  </section>`;
}
