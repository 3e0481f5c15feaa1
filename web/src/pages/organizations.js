// Admin → Organizations (system administrators: orgs:admin): the tenants of this server. Add one
// with its first admin (POST /api/v1/organizations, then /organizations/{id}/users), rename one,
// or delete one with everything it owns — asked again, with the organization's slug typed in.
// The server's message comes back beside the field it names.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, patch, post } from '../lib/api.js';
import { formatTime, sentence } from '../lib/format.js';
import { Field } from '../components/field.js';
import { AdminTabs } from '../components/admin_tabs.js';
import { useApi } from '../lib/use_api.js';

function NewOrganization({ onCreated }) {
  const blank = { name: '', slug: '', email: '', password: '' };
  const [form, setForm] = useState(blank);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });

  async function submit(e) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    let org = null;
    try {
      org = (await post('/api/v1/organizations', { name: form.name.trim(), slug: form.slug.trim() })).data;
      if (form.email.trim()) {
        await post(`/api/v1/organizations/${org.id}/users`, { email: form.email.trim(), role: 'admin', password: form.password });
      }
      setForm(blank);
      onCreated(org, form.email.trim());
    } catch (err) {
      // The organization was made but not its admin: say so; the form keeps the admin's fields.
      if (org) {
        setForm({ ...form, name: '', slug: '' });
        onCreated(org, null);
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const known = ['name', 'slug', 'email', 'password'];
  return html`<form class="card grid-form" onSubmit=${submit} aria-labelledby="new-org">
    <h2 id="new-org">Add an organization</h2>
    <${Field} label="Name" name="name" required value=${form.name} error=${error} onInput=${set('name')} />
    <${Field} label="Slug (lower case, digits, dashes)" name="slug" required value=${form.slug} error=${error} onInput=${set('slug')} />
    <${Field} label="First admin's email (optional)" name="email" type="email" value=${form.email} error=${error} onInput=${set('email')} />
    <${Field} label="First admin's password" name="password" type="password" autocomplete="new-password" required=${Boolean(form.email.trim())} value=${form.password} error=${error} onInput=${set('password')} />
    ${error && !known.includes(error.field) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    <div><button type="submit" class="primary" disabled=${busy}>Add organization</button></div>
  </form>`;
}

function Rename({ org, onDone }) {
  const [name, setName] = useState(org.name);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    try {
      await patch(`/api/v1/organizations/${org.id}`, { name: name.trim() });
      onDone(`${org.slug} renamed`);
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="inline-form" onSubmit=${submit}>
    <${Field} label=${`New name for ${org.slug}`} name="name" required value=${name} error=${error} onInput=${(e) => setName(e.currentTarget.value)} />
    <button type="submit">Save</button> <button type="button" onClick=${() => onDone(null)}>Cancel</button>
    ${error && error.field !== 'name' && html`<span class="error" role="alert">${sentence(error.message)}</span>`}
  </form>`;
}

function Delete({ org, onDone }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    try {
      await del(`/api/v1/organizations/${org.id}`);
      onDone(`${org.slug} deleted, with its devices, alerts and metrics`);
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="inline-form" onSubmit=${submit}>
    <p role="alert">Deleting <strong>${org.name}</strong> removes its users, devices, alerts, dashboards and metrics. Type <code>${org.slug}</code> to confirm.</p>
    <${Field} label="Slug to confirm" name="confirm" value=${typed} error=${null} onInput=${(e) => setTyped(e.currentTarget.value)} />
    <button type="submit" class="danger" disabled=${typed !== org.slug}>Delete ${org.slug}</button> <button type="button" onClick=${() => onDone(null)}>Cancel</button>
    ${error && html`<span class="error">${sentence(error.message)}</span>`}
  </form>`;
}

export function Organizations({ me }) {
  const allowed = me.permissions.includes('orgs:admin');
  const { data: orgs, error, reload } = useApi(allowed ? '/api/v1/organizations?per_page=500' : null);
  const [notice, setNotice] = useState(null);
  const [editing, setEditing] = useState(null); // {id, what: 'rename' | 'delete'}
  const done = (text) => {
    setEditing(null);
    if (text) setNotice({ ok: true, text });
    reload();
  };

  if (!allowed) {
    return html`<section class="page"><${AdminTabs} me=${me} /><h1>Organizations</h1>
      <p class="error" role="alert">Only administrators of the system organization manage organizations.</p></section>`;
  }
  return html`<section class="page">
    <${AdminTabs} me=${me} />
    <h1>Organizations</h1>
    <p class="muted">Each organization is a tenant: its own users, devices, alerts and metrics, never seen by another.</p>
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${orgs &&
    html`<table class="list">
      <caption class="sr-only">Organizations</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Slug</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${orgs.map(
          (o) => html`<tr>
            <td>${o.name}${o.is_system && html` <span class="badge">system</span>`}</td>
            <td><code>${o.slug}</code></td>
            <td>${formatTime(o.created_at)}</td>
            <td class="actions">
              ${editing && editing.id === o.id
                ? editing.what === 'rename'
                  ? html`<${Rename} org=${o} onDone=${done} />`
                  : html`<${Delete} org=${o} onDone=${done} />`
                : html`<button type="button" onClick=${() => setEditing({ id: o.id, what: 'rename' })}>Rename<span class="sr-only"> ${o.slug}</span></button>
                    ${!o.is_system && html`<button type="button" onClick=${() => setEditing({ id: o.id, what: 'delete' })}>Delete<span class="sr-only"> ${o.slug}</span></button>`}`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`}
    <${NewOrganization} onCreated=${(org, admin) => {
      setNotice(admin
        ? { ok: true, text: `${org.name} added; ${admin} can sign in as its admin` }
        : { ok: false, text: `${org.name} added, without an admin yet` });
      reload();
    }} />
  </section>`;
}
