// Maintenance windows: planned work on a scope of devices (all, some groups, some tags), once or
// on a schedule (weekly, monthly, cron) in a time zone. Alerts of devices in an active window are
// recorded, marked silenced and not notified, and the devices do not count as down for
// availability. The list shows each window's current and next occurrence.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, post } from '../lib/api.js';
import { formatTime, sentence, timeZone } from '../lib/format.js';
import { AlertsTabs } from '../components/alerts_tabs.js';
import { labelled } from '../components/field.js';
import { useApi } from '../lib/use_api.js';

const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const weekdayNames = { sun: 'Sunday', mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday' };
const recurrences = { once: 'Once', weekly: 'Every week', monthly: 'Every month', cron: 'Cron expression' };

function describe(w, groups) {
  const when =
    w.recurrence === 'once'
      ? `once, ${formatTime(w.starts_at)}`
      : w.recurrence === 'weekly'
        ? `${w.weekdays.map((d) => weekdayNames[d] || d).join(', ')} at ${w.start_time}`
        : w.recurrence === 'monthly'
          ? `days ${w.month_days.join(', ')} at ${w.start_time}`
          : `cron ${w.cron}`;
  const hours = w.duration_s >= 3600 ? `${Math.round((w.duration_s / 3600) * 10) / 10} h` : `${Math.round(w.duration_s / 60)} min`;
  const s = w.scope;
  const scope = s.all_devices
    ? 'all devices'
    : [...s.group_ids.map((g) => `group ${groups[g] || g}`), ...s.tags.map((t) => `tag ${t}`), ...(s.device_ids.length ? [`${s.device_ids.length} device(s)`] : [])].join(', ');
  return { when: `${when} (${w.time_zone}), ${hours}`, scope };
}

// A datetime-local value (the browser's zone) -> Unix s.
function unix(local) {
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

export function Maintenance({ me }) {
  const { data: list, error, reload: load } = useApi('/api/v1/maintenance-windows');
  const [groups, setGroups] = useState({});
  const [notice, setNotice] = useState(null);
  const [form, setForm] = useState({
    name: '',
    recurrence: 'once',
    start: '',
    start_time: '02:00',
    days: ['sun'],
    month_days: '1',
    cron: '0 2 * * sun',
    hours: '2',
    all: false,
    group: '',
    tags: '',
    comment: '',
  });
  const [formError, setFormError] = useState(null);
  const canWrite = me.permissions.includes('alerts:write');

  useEffect(() => {
    get('/api/v1/device-groups?per_page=500')
      .then((r) => setGroups(Object.fromEntries(r.data.map((g) => [g.id, g.name]))))
      .catch(() => {});
  }, []);

  async function create(e) {
    e.preventDefault();
    setFormError(null);
    const body = {
      name: form.name.trim(),
      time_zone: timeZone,
      recurrence: form.recurrence,
      duration_s: Math.round(Number(form.hours) * 3600),
      scope: {
        all_devices: form.all,
        group_ids: !form.all && form.group ? [Number(form.group)] : [],
        tags: form.all ? [] : form.tags.split(',').map((t) => t.trim()).filter(Boolean),
        device_ids: [],
      },
    };
    if (form.comment.trim()) body.comment = form.comment.trim();
    if (form.recurrence === 'once') {
      body.starts_at = unix(form.start);
      if (body.starts_at === null) return setFormError({ field: 'starts_at', message: 'pick when it starts' });
    } else {
      body.starts_at = Math.floor(Date.now() / 1000);
      if (form.recurrence !== 'cron') body.start_time = form.start_time;
      if (form.recurrence === 'weekly') body.weekdays = form.days;
      if (form.recurrence === 'monthly') body.month_days = form.month_days.split(',').map((d) => Number(d.trim())).filter((d) => d);
      if (form.recurrence === 'cron') body.cron = form.cron.trim();
    }
    try {
      await post('/api/v1/maintenance-windows', body);
      setNotice({ ok: true, text: `${body.name} planned` });
      setForm({ ...form, name: '', comment: '' });
      load();
    } catch (err) {
      setFormError(err);
    }
  }

  async function remove(w) {
    if (!window.confirm(`Delete the maintenance window “${w.name}”?`)) return;
    try {
      await del(`/api/v1/maintenance-windows/${w.id}`);
      setNotice({ ok: true, text: `${w.name} deleted` });
      load();
    } catch (e) {
      setNotice({ ok: false, text: sentence(e.message) });
    }
  }

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const key = (f) => (f ? f.replace(/^scope\./, '').replace(/\[\d+\].*$/, '').replace(/^cron\..*$/, 'cron') : null);
  const msg = (k) => (formError && key(formError.field) === k ? sentence(formError.message.replace(/^[^:]*: /, '')) : null);
  const field = (id, label, k, control) => labelled(id, label, msg(k), control);
  const shown = ['name', 'recurrence', 'starts_at', 'start_time', 'weekdays', 'month_days', 'cron', 'duration_s', 'group_ids', 'tags', 'comment'];

  return html`<section class="page">
    <${AlertsTabs} />
    <h1>Maintenance windows</h1>
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${list &&
    (list.length === 0
      ? html`<p class="empty">No maintenance planned.</p>`
      : html`<table class="list">
          <caption class="sr-only">Maintenance windows</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">When</th><th scope="col">Devices</th><th scope="col">Now / next</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>
            ${list.map((w) => {
              const d = describe(w, groups);
              return html`<tr>
                <td>${w.name}${w.comment && html`<br /><span class="muted">${w.comment}</span>`}</td>
                <td>${d.when}</td>
                <td>${d.scope}</td>
                <td>${w.active ? html`<strong>in progress</strong> until ${formatTime(w.active.ends_at)}` : w.next ? `next ${formatTime(w.next.starts_at)}` : 'no more'}</td>
                ${canWrite && html`<td class="actions"><button type="button" onClick=${() => remove(w)}>Delete<span class="sr-only"> ${w.name}</span></button></td>`}
              </tr>`;
            })}
          </tbody>
        </table>`)}
    ${canWrite &&
    html`<form class="card grid-form" onSubmit=${create} aria-labelledby="new-window">
      <h2 id="new-window">Plan maintenance</h2>
      ${field('mw-name', 'Name', 'name', (a) => html`<input ...${a} required value=${form.name} onInput=${set('name')} />`)}
      ${field('mw-recurrence', 'Repeats', 'recurrence', (a) => html`<select ...${a} value=${form.recurrence} onChange=${set('recurrence')}>
        ${Object.entries(recurrences).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
      </select>`)}
      ${form.recurrence === 'once' && field('mw-start', `Starts (${timeZone})`, 'starts_at', (a) => html`<input ...${a} type="datetime-local" value=${form.start} onInput=${set('start')} />`)}
      ${(form.recurrence === 'weekly' || form.recurrence === 'monthly') &&
      field('mw-time', `Starts at (${timeZone})`, 'start_time', (a) => html`<input ...${a} type="time" value=${form.start_time} onInput=${set('start_time')} />`)}
      ${form.recurrence === 'weekly' &&
      html`<fieldset class="days"><legend>On</legend>
        ${weekdays.map((d) => html`<label class="check"><input type="checkbox" checked=${form.days.includes(d)}
          onChange=${(e) => setForm({ ...form, days: e.currentTarget.checked ? [...form.days, d] : form.days.filter((x) => x !== d) })} /> ${weekdayNames[d]}</label>`)}
        ${msg('weekdays') && html`<span class="field-error">${msg('weekdays')}</span>`}
      </fieldset>`}
      ${form.recurrence === 'monthly' && field('mw-days', 'Days of the month (comma-separated)', 'month_days', (a) => html`<input ...${a} value=${form.month_days} onInput=${set('month_days')} />`)}
      ${form.recurrence === 'cron' && field('mw-cron', 'Cron (minute hour day month weekday)', 'cron', (a) => html`<input ...${a} value=${form.cron} onInput=${set('cron')} />`)}
      ${field('mw-hours', 'Lasts (hours)', 'duration_s', (a) => html`<input ...${a} inputmode="decimal" value=${form.hours} onInput=${set('hours')} />`)}
      <label class="check"><input type="checkbox" checked=${form.all} onChange=${(e) => setForm({ ...form, all: e.currentTarget.checked })} /> All devices</label>
      ${!form.all &&
      html`${field('mw-group', 'Device group', 'group_ids', (a) => html`<select ...${a} value=${form.group} onChange=${set('group')}>
          <option value="">None</option>
          ${Object.entries(groups).map(([id, name]) => html`<option value=${id}>${name}</option>`)}
        </select>`)}
        ${field('mw-tags', 'Device tags (comma-separated)', 'tags', (a) => html`<input ...${a} value=${form.tags} onInput=${set('tags')} />`)}`}
      ${field('mw-comment', 'Comment', 'comment', (a) => html`<input ...${a} value=${form.comment} onInput=${set('comment')} />`)}
      ${formError && !shown.includes(key(formError.field)) && html`<p class="error" role="alert">${sentence(formError.message)}</p>`}
      <div><button type="submit" class="primary">Plan</button></div>
    </form>`}
  </section>`;
}
