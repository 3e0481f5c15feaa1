// Admin: the organization's API keys. Creating one shows its secret once, with a button to copy
// it (the server keeps only a hash and never shows it again); revoking asks first. Needs
// api_keys:read to see, api_keys:write to act (a key never does more than its creator's role).
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, post } from '../lib/api.js';
import { formatAgo, formatTime, sentence } from '../lib/format.js';
import { Field, fieldMessage } from '../components/field.js';
import { AdminTabs } from '../components/admin_tabs.js';
import { useApi } from '../lib/use_api.js';

const roles = ['api_user', 'viewer', 'operator', 'admin'];

export function ApiKeys({ me }) {
  const [form, setForm] = useState({ name: '', role: 'api_user', expires_in_days: '' });
  const [formError, setFormError] = useState(null);
  const [secret, setSecret] = useState(null);
  const [notice, setNotice] = useState(null);
  const canRead = me.permissions.includes('api_keys:read');
  const canWrite = me.permissions.includes('api_keys:write');
  const { data: keys, error, reload: load } = useApi(canRead ? '/api/v1/api-keys?per_page=500' : null);

  async function create(e) {
    e.preventDefault();
    setFormError(null);
    const body = { name: form.name.trim(), role: form.role };
    if (form.expires_in_days.trim()) {
      const n = Number(form.expires_in_days);
      body.expires_in_days = Number.isInteger(n) ? n : form.expires_in_days;
    }
    try {
      const r = await post('/api/v1/api-keys', body);
      setSecret({ name: r.data.name, key: r.data.key, copied: false });
      setForm({ name: '', role: 'api_user', expires_in_days: '' });
      load();
    } catch (err) {
      setFormError(err);
    }
  }

  async function revoke(k) {
    if (!window.confirm(`Revoke the API key “${k.name}”? Whatever uses it stops at once.`)) return;
    try {
      await del(`/api/v1/api-keys/${k.id}`);
      setNotice({ ok: true, text: `${k.name} revoked` });
      load();
    } catch (e) {
      setNotice({ ok: false, text: `${k.name}: ${sentence(e.message)}` });
    }
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret.key);
      setSecret({ ...secret, copied: true });
    } catch {
      setSecret({ ...secret, copied: 'failed' });
    }
  }

  if (!canRead) {
    return html`<section class="page"><h1>API keys</h1>
      <p class="error" role="alert">Your role (${me.role}) may not see the API keys: it needs api_keys:read. Ask an administrator.</p></section>`;
  }
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return html`<section class="page">
    <${AdminTabs} me=${me} />
    <h1>API keys</h1>
    ${secret &&
    html`<div class="card secret" role="status">
      <h2>The key “${secret.name}”</h2>
      <p>Copy it now: it is shown this once and cannot be shown again.</p>
      <p><code class="secret-key" aria-label="The new API key">${secret.key}</code></p>
      <div class="toolbar">
        <button type="button" class="primary" onClick=${copy}>Copy</button>
        <button type="button" onClick=${() => setSecret(null)}>I have saved it</button>
        ${secret.copied === true && html`<span>Copied.</span>`}
        ${secret.copied === 'failed' && html`<span class="error">The browser refused: select the key and copy it.</span>`}
      </div>
    </div>`}
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">Could not load the keys. ${sentence(error.message)}</p>`}
    ${canWrite &&
    html`<form class="card grid-form" onSubmit=${create} aria-labelledby="new-key">
      <h2 id="new-key">New API key</h2>
      <${Field} label="Name" name="name" required value=${form.name} error=${formError} onInput=${set('name')} />
      <div class="field">
        <label for="key-role">Role (never more than yours)</label>
        <select id="key-role" value=${form.role} onChange=${set('role')} aria-invalid=${fieldMessage(formError, 'role') ? 'true' : undefined} aria-describedby=${fieldMessage(formError, 'role') ? 'key-role-error' : undefined}>
          ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
        ${fieldMessage(formError, 'role') && html`<span class="field-error" id="key-role-error">${fieldMessage(formError, 'role')}</span>`}
      </div>
      <${Field} label="Expires in days (empty: the server's default)" name="expires_in_days" inputmode="numeric" value=${form.expires_in_days} error=${formError} onInput=${set('expires_in_days')} />
      ${formError && !['name', 'role', 'expires_in_days'].includes(formError.field) && html`<p class="error" role="alert">${sentence(formError.message)}</p>`}
      <div><button type="submit" class="primary">Create key</button></div>
    </form>`}
    ${keys &&
    (keys.length === 0
      ? html`<p class="empty">No API keys.</p>`
      : html`<table class="list">
          <caption class="sr-only">API keys</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">State</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>
            ${keys.map(
              (k) => html`<tr>
                <td>${k.name}</td>
                <td><code>${k.prefix}…</code></td>
                <td>${k.role}</td>
                <td>${formatTime(k.created_at)}</td>
                <td>${k.last_used_at ? formatAgo(k.last_used_at) : 'never'}</td>
                <td>${k.expires_at ? formatTime(k.expires_at) : 'never'}</td>
                <td>${k.active ? 'active' : `revoked ${formatAgo(k.revoked_at)}`}</td>
                ${canWrite && html`<td class="actions">${k.active && html`<button type="button" onClick=${() => revoke(k)}>Revoke<span class="sr-only"> ${k.name}</span></button>`}</td>`}
              </tr>`,
            )}
          </tbody>
        </table>`)}
  </section>`;
}
