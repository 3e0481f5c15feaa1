// Admin: the organization's users. List them, add one (the API's message beside the field it
// names), change a role, deactivate or reactivate. Needs users:read to see, users:write to act;
// anyone else is told so (the API refuses them too).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, patch, post } from '../lib/api.js';
import { formatAgo, formatCount, formatTime, sentence } from '../lib/format.js';
import { Field, fieldMessage } from '../components/field.js';
import { AdminTabs } from '../components/admin_tabs.js';

const roles = ['admin', 'operator', 'viewer', 'api_user'];

function NewUser({ onCreated }) {
  const [form, setForm] = useState({ email: '', name: '', role: 'viewer', password: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post('/api/v1/users', { ...form, email: form.email.trim() });
      setForm({ email: '', name: '', role: 'viewer', password: '' });
      onCreated(r.data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const known = ['email', 'name', 'role', 'password'];
  return html`<form class="card grid-form" onSubmit=${submit} aria-labelledby="new-user">
    <h2 id="new-user">Add a user</h2>
    <${Field} label="Email" name="email" type="email" required value=${form.email} error=${error} onInput=${set('email')} />
    <${Field} label="Name" name="name" required value=${form.name} error=${error} onInput=${set('name')} />
    <div class="field">
      <label for="new-user-role">Role</label>
      <select id="new-user-role" value=${form.role} onChange=${set('role')}>
        ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
      </select>
      ${fieldMessage(error, 'role') && html`<span class="field-error">${fieldMessage(error, 'role')}</span>`}
    </div>
    <${Field} label="Password" name="password" type="password" autocomplete="new-password" required value=${form.password} error=${error} onInput=${set('password')} />
    ${error && !known.includes(error.field) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    <div><button type="submit" class="primary" disabled=${busy}>Add user</button></div>
  </form>`;
}

export function Users({ me }) {
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const canRead = me.permissions.includes('users:read');
  const canWrite = me.permissions.includes('users:write');

  async function load() {
    try {
      const r = await get('/api/v1/users?per_page=500');
      setUsers(r.data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    if (canRead) load();
  }, []);

  async function change(u, body, what) {
    setNotice(null);
    try {
      await patch(`/api/v1/users/${u.id}`, body);
      setNotice({ ok: true, text: `${u.email}: ${what}` });
      await load();
    } catch (e) {
      setNotice({ ok: false, text: `${u.email}: ${sentence(e.message)}` });
    }
  }

  if (!canRead) {
    return html`<section class="page">
      <h1>Users</h1>
      <p class="error" role="alert">Your role (${me.role}) may not see the users: it needs users:read. Ask an administrator.</p>
    </section>`;
  }
  return html`
    <section class="page">
      <${AdminTabs} me=${me} />
      <h1>Users</h1>
      ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
      ${error && html`<p class="error" role="alert">Could not load the users. ${sentence(error.message)}</p>`}
      ${canWrite &&
      html`<${NewUser}
        onCreated=${(u) => {
          setNotice({ ok: true, text: `${u.email} added as ${u.role}` });
          load();
        }}
      />`}
      ${users &&
      html`<table class="list users">
        <caption class="sr-only">Users, ${formatCount(users.length)}</caption>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Last sign-in</th><th scope="col">Active</th></tr>
        </thead>
        <tbody>
          ${users.map(
            (u) => html`<tr key=${u.id}>
              <td>${u.name}</td>
              <td>${u.email}</td>
              <td>
                ${canWrite && u.id !== me.id
                  ? html`<select aria-label=${`Role of ${u.email}`} value=${u.role} onChange=${(e) => change(u, { role: e.currentTarget.value }, `role ${e.currentTarget.value}`)}>
                      ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
                    </select>`
                  : u.role}
              </td>
              <td title=${formatTime(u.last_login_at)}>${u.last_login_at ? formatAgo(u.last_login_at) : 'never'}</td>
              <td>
                ${canWrite && u.id !== me.id
                  ? html`<button type="button" onClick=${() => change(u, { active: !u.active }, u.active ? 'deactivated' : 'reactivated')}>
                      ${u.active ? 'Deactivate' : 'Reactivate'}<span class="sr-only"> ${u.email}</span>
                    </button>`
                  : u.active ? 'yes' : 'no'}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>`}
    </section>
  `;
}
