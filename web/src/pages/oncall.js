// On-call schedules: who is on call now and next (GET /api/v1/oncall-schedules/{id}/current), and
// the editor for a rotation (people in turn, handover weekday and time in the schedule's zone,
// length, start) with overrides (someone covering for a while). Policies page a schedule as a
// target; the server's message comes back beside the field it names. docs/notify-routing.md.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, post, put } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { formatTime, sentence, timeZone } from '../lib/format.js';
import { NotifyTabs } from '../components/notify_tabs.js';
import { labelled } from '../components/field.js';
import { useApi } from '../lib/use_api.js';

const weekdays = [
  ['', 'Any day (every length days)'],
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
];

function useUsers() {
  const [users, setUsers] = useState([]);
  useEffect(() => {
    get('/api/v1/users?per_page=500')
      .then((r) => setUsers(r.data))
      .catch(() => {});
  }, []);
  return users;
}

const userName = (users, id) => {
  const u = users.find((x) => x.id === id);
  return u ? u.name || u.email : `user ${id}`;
};

function rotationSummary(s, users) {
  const r = s.rotation;
  const every = r.length_days === 7 ? 'weekly' : r.length_days === 1 ? 'daily' : `every ${r.length_days} days`;
  const day = r.handover.weekday ? ` on ${weekdays.find((w) => w[0] === r.handover.weekday)[1]}s` : '';
  return `${every}${day} at ${r.handover.time} (${s.time_zone}) from ${r.start}: ${r.users.map((u) => userName(users, u)).join(' → ')}`;
}

export function Oncall({ me }) {
  const { data: schedules, error, reload } = useApi('/api/v1/oncall-schedules?per_page=200');
  const users = useUsers();
  const [now, setNow] = useState({}); // id -> current answer
  const [notice, setNotice] = useState(null);
  const canWrite = me.permissions.includes('notifications:write');
  useEffect(() => {
    if (!schedules) return;
    // Who is on call, for the first 20 (one request each).
    Promise.all(
      schedules.slice(0, 20).map((s) =>
        get(`/api/v1/oncall-schedules/${s.id}/current`)
          .then((r) => [s.id, r.data])
          .catch(() => [s.id, null]),
      ),
    ).then((pairs) => setNow(Object.fromEntries(pairs)));
  }, [schedules]);

  async function remove(s) {
    if (!window.confirm(`Delete the schedule “${s.name}”?`)) return;
    try {
      await del(`/api/v1/oncall-schedules/${s.id}`);
      setNotice({ ok: true, text: `${s.name} deleted` });
      reload();
    } catch (e) {
      setNotice({ ok: false, text: `${s.name}: ${sentence(e.message)}` });
    }
  }

  return html`<section class="page">
    <${NotifyTabs} />
    <h1>On-call schedules</h1>
    ${canWrite && html`<p class="toolbar"><a class="button" href="/notifications/oncall/new">Add a schedule</a></p>`}
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${schedules &&
    (schedules.length === 0
      ? html`<p class="empty">No schedules yet. A schedule names who is on call; a policy that sends to it reaches that person.</p>`
      : html`<table class="list">
          <caption class="sr-only">On-call schedules</caption>
          <thead><tr><th scope="col">Schedule</th><th scope="col">On call now</th><th scope="col">Next</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>
            ${schedules.map((s) => {
              const c = now[s.id];
              const next = c ? c.shifts.slice(1, 3) : [];
              return html`<tr>
                <td>${canWrite ? html`<a href=${`/notifications/oncall/${s.id}`}>${s.name}</a>` : s.name}<br /><span class="muted">${rotationSummary(s, users)}</span></td>
                <td>${!c ? html`<span class="muted">—</span>` : c.user_id === null ? html`<span class="error">nobody</span>` : html`<strong>${userName(users, c.user_id)}</strong>${c.until && html`<br /><span class="muted">until ${formatTime(c.until)}</span>`}`}</td>
                <td>${next.length ? next.map((x) => html`<div>${userName(users, x.user_id)} <span class="muted">from ${formatTime(x.start)}${x.override ? ' (override)' : ''}</span></div>`) : html`<span class="muted">—</span>`}</td>
                ${canWrite && html`<td class="actions"><button type="button" onClick=${() => remove(s)}>Delete<span class="sr-only"> ${s.name}</span></button></td>`}
              </tr>`;
            })}
          </tbody>
        </table>`)}
  </section>`;
}

// "2026-03-02T09:00" (local to the browser) <-> Unix ms.
const toLocalInput = (ms) => {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

function nextMonday() {
  const d = new Date();
  d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function zones() {
  try {
    return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
  } catch {
    return ['UTC', timeZone];
  }
}

export function OncallEditor({ id }) {
  const users = useUsers();
  const [form, setForm] = useState(
    id
      ? null
      : { name: '', time_zone: timeZone, users: [], weekday: 'mon', time: '09:00', length_days: 7, start: nextMonday(), overrides: [] },
  );
  const [current, setCurrent] = useState(null);
  const [error, setError] = useState(null);
  const [pick, setPick] = useState('');
  useEffect(() => {
    if (!id) return;
    get(`/api/v1/oncall-schedules/${id}`)
      .then((r) => {
        const s = r.data;
        setForm({
          name: s.name,
          time_zone: s.time_zone,
          users: s.rotation.users,
          weekday: s.rotation.handover.weekday || '',
          time: s.rotation.handover.time,
          length_days: s.rotation.length_days,
          start: s.rotation.start,
          overrides: s.overrides.map((o) => ({ user_id: o.user_id, start: toLocalInput(o.start_ms), end: toLocalInput(o.end_ms), reason: o.reason || '' })),
        });
      })
      .catch(setError);
    get(`/api/v1/oncall-schedules/${id}/current`)
      .then((r) => setCurrent(r.data))
      .catch(() => {});
  }, [id]);

  if (!form) {
    return html`<section class="page"><${NotifyTabs} /><h1>On-call schedule</h1>
      ${error ? html`<p class="error" role="alert">${error.status === 404 ? 'There is no such schedule.' : sentence(error.message)}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  }
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  // "rotation.users[2]" -> "users"; "overrides[1].end_ms" -> "override-1"; "rotation.start" -> "start".
  const place = error && error.field ? error.field.replace(/^rotation\.(handover\.)?/, '').replace(/^overrides\[(\d+)\].*$/, 'override-$1').replace(/\[.*$/, '') : null;
  // The message without its "<field>: " prefix: it stands beside that field.
  const message = (f) =>
    place === f ? sentence(error.message.startsWith(error.field + ': ') ? error.message.slice(error.field.length + 2) : error.message) : null;
  const input = (f, label, control) => labelled(`oc-${f}`, label, message(f), control);
  const moveUser = (i, by) => {
    const u = [...form.users];
    [u[i], u[i + by]] = [u[i + by], u[i]];
    setForm({ ...form, users: u });
  };
  const override = (i, change) => setForm({ ...form, overrides: form.overrides.map((o, j) => (j === i ? { ...o, ...change } : o)) });

  async function submit(e) {
    e.preventDefault();
    setError(null);
    const handover = { time: form.time };
    if (form.weekday) handover.weekday = form.weekday;
    const body = {
      name: form.name.trim(),
      time_zone: form.time_zone,
      rotation: { users: form.users, handover, length_days: Number(form.length_days), start: form.start },
      overrides: form.overrides.map((o) => {
        const out = { user_id: Number(o.user_id), start_ms: new Date(o.start).getTime(), end_ms: new Date(o.end).getTime() };
        if (o.reason.trim()) out.reason = o.reason.trim();
        return out;
      }),
    };
    try {
      if (id) await put(`/api/v1/oncall-schedules/${id}`, body);
      else await post('/api/v1/oncall-schedules', body);
      navigate('/notifications/oncall');
    } catch (err) {
      setError(err);
    }
  }

  const known = ['name', 'time_zone', 'users', 'weekday', 'time', 'length_days', 'start', ...form.overrides.map((_, i) => `override-${i}`)];
  return html`<section class="page">
    <${NotifyTabs} />
    <p><a href="/notifications/oncall">All schedules</a></p>
    <h1>${id ? `Schedule: ${form.name}` : 'New on-call schedule'}</h1>
    ${current &&
    html`<section class="card" aria-labelledby="oc-now">
      <h2 id="oc-now">The next 14 days</h2>
      ${current.shifts.length === 0
        ? html`<p class="empty">Nobody is on call in the next 14 days.</p>`
        : html`<ul class="events">${current.shifts.map((x) => html`<li><strong>${userName(users, x.user_id)}</strong> ${formatTime(x.start)} – ${formatTime(x.end)}${x.override ? ' (override)' : ''}</li>`)}</ul>`}
    </section>`}
    <form class="card grid-form" onSubmit=${submit} aria-label="On-call schedule">
      ${input('name', 'Name', (a) => html`<input ...${a} value=${form.name} required maxlength="200" onInput=${set('name')} />`)}
      ${input('time_zone', 'Time zone of the handovers', (a) => html`<select ...${a} value=${form.time_zone} onChange=${set('time_zone')}>${zones().map((z) => html`<option value=${z}>${z}</option>`)}</select>`)}
      <fieldset class="days rotation" aria-describedby=${message('users') ? 'oc-users-error' : undefined}>
        <legend>People, in turn</legend>
        ${form.users.length === 0 && html`<p class="muted">Nobody yet.</p>`}
        <ol>
          ${form.users.map(
            (u, i) => html`<li>${userName(users, u)}
              <button type="button" disabled=${i === 0} onClick=${() => moveUser(i, -1)}>Up<span class="sr-only"> ${userName(users, u)}</span></button>
              <button type="button" disabled=${i === form.users.length - 1} onClick=${() => moveUser(i, 1)}>Down<span class="sr-only"> ${userName(users, u)}</span></button>
              <button type="button" onClick=${() => setForm({ ...form, users: form.users.filter((_, j) => j !== i) })}>Remove<span class="sr-only"> ${userName(users, u)}</span></button>
            </li>`,
          )}
        </ol>
        <label class="inline">Add a person
          <select value=${pick} onChange=${(e) => setPick(e.currentTarget.value)}>
            <option value="">Choose…</option>
            ${users.filter((u) => u.active !== false).map((u) => html`<option value=${u.id}>${u.name || u.email}</option>`)}
          </select></label>
        <button type="button" disabled=${!pick} onClick=${() => { setForm({ ...form, users: [...form.users, Number(pick)] }); setPick(''); }}>Add to the rotation</button>
        ${message('users') && html`<span class="field-error" id="oc-users-error">${message('users')}</span>`}
      </fieldset>
      ${input('weekday', 'Handover day', (a) => html`<select ...${a} value=${form.weekday} onChange=${set('weekday')}>${weekdays.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`)}
      ${input('time', 'Handover time', (a) => html`<input ...${a} type="time" value=${form.time} required onInput=${set('time')} />`)}
      ${input('length_days', 'Shift length (days)', (a) => html`<input ...${a} type="number" min="1" max="28" value=${form.length_days} onInput=${set('length_days')} />`)}
      ${input('start', 'First handover (date)', (a) => html`<input ...${a} type="date" value=${form.start} required onInput=${set('start')} />`)}
      <section aria-labelledby="oc-overrides">
        <h2 id="oc-overrides">Overrides</h2>
        <p class="muted">Someone covering for a while; times in your zone (${timeZone}).</p>
        ${form.overrides.map(
          (o, i) => html`<fieldset class="days override">
            <legend>Override ${i + 1}</legend>
            <label class="inline">Who
              <select value=${o.user_id} onChange=${(e) => override(i, { user_id: e.currentTarget.value })}>
                ${users.map((u) => html`<option value=${u.id}>${u.name || u.email}</option>`)}
              </select></label>
            <label class="inline">From <input type="datetime-local" value=${o.start} required onInput=${(e) => override(i, { start: e.currentTarget.value })} /></label>
            <label class="inline">Until <input type="datetime-local" value=${o.end} required onInput=${(e) => override(i, { end: e.currentTarget.value })} /></label>
            <label class="inline">Why <input value=${o.reason} maxlength="1000" onInput=${(e) => override(i, { reason: e.currentTarget.value })} /></label>
            <button type="button" onClick=${() => setForm({ ...form, overrides: form.overrides.filter((_, j) => j !== i) })}>Remove override ${i + 1}</button>
            ${message(`override-${i}`) && html`<span class="field-error" role="alert">${message(`override-${i}`)}</span>`}
          </fieldset>`,
        )}
        <button type="button" disabled=${users.length === 0} onClick=${() => {
          const start = Date.now() + 3600000;
          setForm({ ...form, overrides: [...form.overrides, { user_id: users[0].id, start: toLocalInput(start), end: toLocalInput(start + 86400000), reason: '' }] });
        }}>Add an override</button>
      </section>
      ${error && !known.includes(place) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
      <div><button type="submit" class="primary">${id ? 'Save schedule' : 'Add schedule'}</button></div>
    </form>
  </section>`;
}
