// Notification policies: which alerts go to whom, in routing order (the first policy that matches
// and does not say "continue" ends the walk), with their grouping, delivery modes by severity and
// escalation steps. The list says each one in words; the editor sets match, targets (channels,
// people, on-call schedules), modes, timings and escalation, and the server's message comes back
// beside the field it names. Templates are kept as they are (edited through the API).
// docs/notify-routing.md.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, post, put } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { formatCount, sentence } from '../lib/format.js';
import { NotifyTabs } from '../components/notify_tabs.js';
import { labelled } from '../components/field.js';
import { useApi } from '../lib/use_api.js';

const severities = ['critical', 'warning', 'info'];
const modes = ['immediate', 'digest', 'record'];

// The names of channels, users and schedules, for targets; users need users:read (viewers see
// ids instead).
function useDirectory() {
  const [dir, setDir] = useState({ channels: [], users: [], schedules: [] });
  useEffect(() => {
    const list = (path) => get(path).then((r) => r.data).catch(() => []);
    Promise.all([
      list('/api/v1/notification-channels?per_page=500'),
      list('/api/v1/users?per_page=500'),
      list('/api/v1/oncall-schedules?per_page=200'),
    ]).then(([channels, users, schedules]) => setDir({ channels, users, schedules }));
  }, []);
  return dir;
}

function targetKey(t) {
  if (t.channel_id) return `c${t.channel_id}`;
  if (t.user_id) return `u${t.user_id}`;
  return `s${t.schedule_id}`;
}

function targetOf(key) {
  const id = Number(key.slice(1));
  return key[0] === 'c' ? { channel_id: id } : key[0] === 'u' ? { user_id: id } : { schedule_id: id };
}

function targetName(t, dir) {
  if (t.channel_id) {
    const c = dir.channels.find((x) => x.id === t.channel_id);
    return c ? `${c.name} (${c.kind})` : `channel ${t.channel_id}`;
  }
  if (t.user_id) {
    const u = dir.users.find((x) => x.id === t.user_id);
    return u ? u.name || u.email : `user ${t.user_id}`;
  }
  const s = dir.schedules.find((x) => x.id === t.schedule_id);
  return s ? `on call: ${s.name}` : `schedule ${t.schedule_id}`;
}

function duration(s) {
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

// "name=value" a line; =, !=, =~, !~ as the silences take them.
export function parseLabels(text) {
  const out = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/.exec(line);
    if (!m) throw Object.assign(new Error(`line ${i + 1} is not name=value (or !=, =~, !~)`), { field: 'match.labels' });
    out[m[1]] = m[2] === '=' ? m[3] : { op: m[2], value: m[3] };
  }
  return out;
}

function labelsText(labels) {
  return Object.entries(labels || {})
    .map(([k, v]) => (typeof v === 'string' ? `${k}=${v}` : `${k}${v.op}${v.value}`))
    .join('\n');
}

const list = (text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function matchSummary(m) {
  const parts = [];
  if (m.severity && m.severity.length) parts.push(m.severity.join(' or '));
  if (m.groups && m.groups.length) parts.push(`group ${m.groups.join(' or ')}`);
  if (m.tags && m.tags.length) parts.push(`tag ${m.tags.join(' or ')}`);
  if (m.device_ids && m.device_ids.length) parts.push(`${m.device_ids.length} device(s)`);
  if (m.rule_ids && m.rule_ids.length) parts.push(`${m.rule_ids.length} rule(s)`);
  const labels = labelsText(m.labels);
  if (labels) parts.push(labels.split('\n').join(', '));
  return parts.length ? parts.join(' · ') : 'every alert';
}

export function Policies({ me }) {
  const { data: policies, error, reload } = useApi('/api/v1/notification-policies?per_page=500');
  const dir = useDirectory();
  const [notice, setNotice] = useState(null);
  const canWrite = me.permissions.includes('notifications:write');

  async function save(p, change, text) {
    try {
      const { id, created_at, updated_at, ...body } = p;
      await put(`/api/v1/notification-policies/${id}`, { ...body, ...change });
      setNotice({ ok: true, text });
      reload();
    } catch (e) {
      setNotice({ ok: false, text: `${p.name}: ${sentence(e.message)}` });
    }
  }
  async function remove(p) {
    if (!window.confirm(`Delete the policy “${p.name}”?`)) return;
    try {
      await del(`/api/v1/notification-policies/${p.id}`);
      setNotice({ ok: true, text: `${p.name} deleted` });
      reload();
    } catch (e) {
      setNotice({ ok: false, text: `${p.name}: ${sentence(e.message)}` });
    }
  }
  // Moving swaps the positions of two neighbours.
  async function move(i, by) {
    const a = policies[i];
    const b = policies[i + by];
    const [pa, pb] = a.position === b.position ? [b.position + by, a.position] : [b.position, a.position];
    await save(a, { position: pa }, `${a.name} moved`);
    await save(b, { position: pb }, `${a.name} moved`);
  }

  return html`<section class="page">
    <${NotifyTabs} />
    <h1>Notification policies</h1>
    <p class="muted">Alerts walk the policies in this order. Each policy that matches sends to its targets; the walk stops at the first match that does not continue.</p>
    ${canWrite && html`<p class="toolbar"><a class="button" href="/notifications/policies/new">Add a policy</a></p>`}
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${policies &&
    (policies.length === 0
      ? html`<p class="empty">No policies yet: alerts are recorded but nobody is told. Add one to send them to a channel, a person or whoever is on call.</p>`
      : html`<ol class="policies">
          ${policies.map(
            (p, i) => html`<li class=${'card policy' + (p.enabled ? '' : ' disabled')}>
              <h2>${canWrite ? html`<a href=${`/notifications/policies/${p.id}`}>${p.name}</a>` : p.name}
                ${!p.enabled && html` <span class="badge">disabled</span>`}
                ${p.continue && html` <span class="badge">continues</span>`}</h2>
              <dl class="facts">
                <div class="fact"><dt>Matches</dt><dd>${matchSummary(p.match || {})}</dd></div>
                <div class="fact"><dt>Sends to</dt><dd>${p.targets.length ? p.targets.map((t) => targetName(t, dir)).join(', ') : html`<span class="muted">nobody (recorded only)</span>`}</dd></div>
                <div class="fact"><dt>Delivery</dt><dd>${severities.map((s) => `${s} ${p.modes[s]}${p.modes[s] === 'digest' ? ` every ${duration(p.digest_interval_s)}` : ''}`).join(' · ')}</dd></div>
                <div class="fact"><dt>Escalation</dt><dd>${p.escalation.length
                  ? p.escalation.map((e) => `after ${duration(e.after_s)}: ${e.targets.map((t) => targetName(t, dir)).join(', ')}`).join('; ')
                  : html`<span class="muted">none</span>`}</dd></div>
              </dl>
              ${canWrite &&
              html`<div class="toolbar">
                <button type="button" disabled=${i === 0} onClick=${() => move(i, -1)}>Move up<span class="sr-only"> ${p.name}</span></button>
                <button type="button" disabled=${i === policies.length - 1} onClick=${() => move(i, 1)}>Move down<span class="sr-only"> ${p.name}</span></button>
                <button type="button" onClick=${() => save(p, { enabled: !p.enabled }, `${p.name} ${p.enabled ? 'disabled' : 'enabled'}`)}>${p.enabled ? 'Disable' : 'Enable'}<span class="sr-only"> ${p.name}</span></button>
                <button type="button" onClick=${() => remove(p)}>Delete<span class="sr-only"> ${p.name}</span></button>
              </div>`}
            </li>`,
          )}
        </ol>`)}
  </section>`;
}

function TargetPicker({ id, legend, value, onChange, dir, message }) {
  const groups = [
    ['Channels', dir.channels.map((c) => [`c${c.id}`, `${c.name} (${c.kind})`])],
    ['People', dir.users.filter((u) => u.active !== false).map((u) => [`u${u.id}`, u.name || u.email])],
    ['On-call schedules', dir.schedules.map((s) => [`s${s.id}`, s.name])],
  ];
  const toggle = (key) => onChange(value.includes(key) ? value.filter((k) => k !== key) : [...value, key]);
  return html`<fieldset class="targets" id=${id} aria-invalid=${message ? 'true' : undefined} aria-describedby=${message ? id + '-error' : undefined}>
    <legend>${legend}</legend>
    ${groups.map(
      ([name, items]) => html`<div class="target-group"><span class="muted">${name}</span>
        ${items.length === 0
          ? html`<span class="muted"> none</span>`
          : items.map(([key, label]) => html`<label class="check"><input type="checkbox" checked=${value.includes(key)} onChange=${() => toggle(key)} /> ${label}</label>`)}
      </div>`,
    )}
    ${message && html`<span class="field-error" id=${id + '-error'}>${message}</span>`}
  </fieldset>`;
}

const blank = {
  name: '',
  enabled: true,
  position: 100,
  severity: [],
  groups: '',
  tags: '',
  labels: '',
  continue: false,
  targets: [],
  modes: { critical: 'immediate', warning: 'digest', info: 'record' },
  group_by: 'alertname',
  group_wait_s: 30,
  group_interval_s: 300,
  repeat_interval_s: 14400,
  digest_interval_s: 900,
  override_quiet_hours: false,
  escalation: [],
};

function formOf(p) {
  const m = p.match || {};
  return {
    ...blank,
    name: p.name,
    enabled: p.enabled,
    position: p.position,
    severity: m.severity || [],
    groups: (m.groups || []).join(', '),
    tags: (m.tags || []).join(', '),
    labels: labelsText(m.labels),
    continue: p.continue,
    targets: p.targets.map(targetKey),
    modes: { ...p.modes },
    group_by: p.group_by.join(', '),
    group_wait_s: p.group_wait_s,
    group_interval_s: p.group_interval_s,
    repeat_interval_s: p.repeat_interval_s,
    digest_interval_s: p.digest_interval_s,
    override_quiet_hours: p.override_quiet_hours,
    escalation: p.escalation.map((e) => ({ after_min: e.after_s / 60, targets: e.targets.map(targetKey) })),
  };
}

// Where the server's message goes: "match.severity" -> "severity", "targets[1]" -> "targets",
// "escalation[0].after_s" -> "escalation-0".
function placeOf(field) {
  if (!field) return null;
  let m = /^escalation\[(\d+)\]/.exec(field);
  if (m) return `escalation-${m[1]}`;
  m = /^match\.([a-z_]+)/.exec(field);
  if (m) return m[1];
  return field.replace(/\[.*$/, '').replace(/\..*$/, '');
}

export function PolicyEditor({ id }) {
  const dir = useDirectory();
  const [form, setForm] = useState(id ? null : blank);
  const [original, setOriginal] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!id) return;
    get(`/api/v1/notification-policies/${id}`)
      .then((r) => {
        setOriginal(r.data);
        setForm(formOf(r.data));
      })
      .catch(setError);
  }, [id]);

  if (!form) {
    return html`<section class="page"><${NotifyTabs} /><h1>Notification policy</h1>
      ${error ? html`<p class="error" role="alert">${error.status === 404 ? 'There is no such policy.' : sentence(error.message)}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  }
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const place = error && placeOf(error.field);
  // The message without its "<field>: " prefix: it stands beside that field.
  const message = (f) =>
    place === f ? sentence(error.message.startsWith(error.field + ': ') ? error.message.slice(error.field.length + 2) : error.message) : null;
  const input = (f, label, control) => labelled(`pol-${f}`, label, message(f), control);
  const number = (f, label, attrs = {}) =>
    input(f, label, (a) => html`<input ...${a} type="number" min="0" value=${form[f]} onInput=${set(f)} ...${attrs} />`);

  async function submit(e) {
    e.preventDefault();
    setError(null);
    let body;
    try {
      const match = {};
      if (form.severity.length) match.severity = form.severity;
      if (list(form.groups).length) match.groups = list(form.groups);
      if (list(form.tags).length) match.tags = list(form.tags);
      const labels = parseLabels(form.labels);
      if (Object.keys(labels).length) match.labels = labels;
      if (original && original.match) {
        for (const k of ['rule_ids', 'device_ids']) if (original.match[k]) match[k] = original.match[k];
      }
      body = {
        name: form.name.trim(),
        enabled: form.enabled,
        position: Number(form.position),
        match,
        continue: form.continue,
        group_by: list(form.group_by),
        group_wait_s: Number(form.group_wait_s),
        group_interval_s: Number(form.group_interval_s),
        repeat_interval_s: Number(form.repeat_interval_s),
        digest_interval_s: Number(form.digest_interval_s),
        modes: form.modes,
        targets: form.targets.map(targetOf),
        escalation: form.escalation.map((s) => ({ after_s: Math.round(Number(s.after_min) * 60), targets: s.targets.map(targetOf) })),
        override_quiet_hours: form.override_quiet_hours,
      };
      if (original && original.templates) body.templates = original.templates;
    } catch (err) {
      return setError(err);
    }
    setBusy(true);
    try {
      if (id) await put(`/api/v1/notification-policies/${id}`, body);
      else await post('/api/v1/notification-policies', body);
      navigate('/notifications/policies');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const step = (i, change) => setForm({ ...form, escalation: form.escalation.map((s, j) => (j === i ? { ...s, ...change } : s)) });
  const known = ['name', 'position', 'severity', 'groups', 'tags', 'labels', 'targets', 'group_by', 'group_wait_s', 'group_interval_s', 'repeat_interval_s', 'digest_interval_s', 'modes'];
  return html`<section class="page">
    <${NotifyTabs} />
    <p><a href="/notifications/policies">All policies</a></p>
    <h1>${id ? `Policy: ${original.name}` : 'New notification policy'}</h1>
    <form class="card grid-form policy-form" onSubmit=${submit} aria-label="Notification policy">
      ${input('name', 'Name', (a) => html`<input ...${a} value=${form.name} required maxlength="200" onInput=${set('name')} />`)}
      ${number('position', 'Position (lower goes first)')}
      <fieldset class="days" aria-describedby=${message('severity') ? 'pol-severity-error' : undefined}>
        <legend>Severities (none: all)</legend>
        ${severities.map((s) => html`<label class="check"><input type="checkbox" checked=${form.severity.includes(s)}
          onChange=${() => setForm({ ...form, severity: form.severity.includes(s) ? form.severity.filter((x) => x !== s) : [...form.severity, s] })} /> ${s}</label>`)}
        ${message('severity') && html`<span class="field-error" id="pol-severity-error">${message('severity')}</span>`}
      </fieldset>
      ${input('groups', 'Device groups (comma-separated; empty: any)', (a) => html`<input ...${a} value=${form.groups} onInput=${set('groups')} />`)}
      ${input('tags', 'Device tags (comma-separated; empty: any)', (a) => html`<input ...${a} value=${form.tags} onInput=${set('tags')} />`)}
      ${input('labels', 'Labels (one a line: name=value, name!=value, name=~regex, name!~regex)', (a) => html`<textarea ...${a} rows="3" value=${form.labels} onInput=${set('labels')}></textarea>`)}
      <${TargetPicker} id="pol-targets" legend="Send to" value=${form.targets} dir=${dir} message=${message('targets')}
        onChange=${(targets) => setForm({ ...form, targets })} />
      <fieldset class="days">
        <legend>Delivery by severity</legend>
        ${severities.map((s) => html`<label class="inline">${s}
          <select value=${form.modes[s]} onChange=${(e) => setForm({ ...form, modes: { ...form.modes, [s]: e.currentTarget.value } })}>
            ${modes.map((m) => html`<option value=${m}>${m}</option>`)}
          </select></label>`)}
        ${message('modes') && html`<span class="field-error">${message('modes')}</span>`}
      </fieldset>
      ${number('digest_interval_s', 'Digest every (seconds)')}
      ${input('group_by', 'Group alerts by labels (comma-separated; ... for all)', (a) => html`<input ...${a} value=${form.group_by} onInput=${set('group_by')} />`)}
      ${number('group_wait_s', 'Wait before the first message (seconds)')}
      ${number('group_interval_s', 'Between messages of a changed group (seconds)')}
      ${number('repeat_interval_s', 'Repeat a still-firing group after (seconds; 0: never)')}
      <label class="check"><input type="checkbox" checked=${form.continue} onChange=${set('continue')} /> Continue to the next policies after this one</label>
      <label class="check"><input type="checkbox" checked=${form.override_quiet_hours} onChange=${set('override_quiet_hours')} /> Ignore people's quiet hours</label>
      <label class="check"><input type="checkbox" checked=${form.enabled} onChange=${set('enabled')} /> Enabled</label>
      <section class="escalation" aria-labelledby="pol-esc">
        <h2 id="pol-esc">Escalation</h2>
        <p class="muted">While nobody acknowledges, each step tells more people.</p>
        ${form.escalation.map(
          (s, i) => html`<div class="esc-step">
            ${labelled(`pol-esc-${i}`, `Step ${i + 1}: after (minutes)`, message(`escalation-${i}`), (a) => html`<input ...${a} type="number" step="any" value=${s.after_min} onInput=${(e) => step(i, { after_min: e.currentTarget.value })} />`)}
            <${TargetPicker} id=${`pol-esc-${i}-targets`} legend=${`Step ${i + 1}: tell`} value=${s.targets} dir=${dir}
              onChange=${(targets) => step(i, { targets })} />
            <button type="button" onClick=${() => setForm({ ...form, escalation: form.escalation.filter((_, j) => j !== i) })}>Remove step ${i + 1}</button>
          </div>`,
        )}
        <button type="button" onClick=${() => setForm({ ...form, escalation: [...form.escalation, { after_min: form.escalation.length ? Number(form.escalation[form.escalation.length - 1].after_min) + 15 : 10, targets: [] }] })}>Add a step</button>
      </section>
      ${error && !known.includes(place) && !/^escalation-/.test(place || '') && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
      <div><button type="submit" class="primary" disabled=${busy}>${id ? 'Save policy' : 'Add policy'}</button></div>
      ${original && Object.keys(original.templates || {}).length > 0 && html`<p class="muted">This policy has its own message templates (${formatCount(Object.keys(original.templates).length)} channel families); they are kept as they are.</p>`}
    </form>
  </section>`;
}
