// Notification channels: where messages go (email, chat, paging, SMS, webhooks, the in-app inbox),
// each with its health, "send test" (the remote's answer shown as it came), enable / disable and
// delete. A channel is added with the fields of its kind; the server checks them and its message
// comes back beside the field it names. Secrets are never shown again (the server answers
// {"set": true}); leaving a secret empty on an edit keeps it. docs/notify-channels.md.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, patch, post } from '../lib/api.js';
import { formatAgo, sentence } from '../lib/format.js';
import { NotifyTabs } from '../components/notify_tabs.js';
import { labelled } from '../components/field.js';
import { useApi } from '../lib/use_api.js';

// Each kind's fields: `list` fields are one entry a line; `secret` ones are never read back.
const kinds = {
  email: { label: 'Email', fields: [['to', 'To (one address a line)', 'list'], ['cc', 'Cc (one address a line)', 'list']] },
  slack: { label: 'Slack', fields: [['url', 'Incoming-webhook URL', 'secret'], ['channel', 'Channel (legacy webhooks only)']] },
  teams: { label: 'Microsoft Teams', fields: [['url', 'Workflows webhook URL', 'secret']] },
  telegram: { label: 'Telegram', fields: [['bot_token', 'Bot token', 'secret'], ['chat_id', 'Chat id (-100… or @channel)']] },
  webhook: {
    label: 'Webhook',
    fields: [['url', 'URL'], ['format', 'Format', 'select', ['netpulse', 'alertmanager']], ['secret', 'Signing secret (16+ characters)', 'secret']],
  },
  pagerduty: { label: 'PagerDuty', fields: [['routing_key', 'Integration (routing) key', 'secret'], ['url', 'Events API URL (empty: PagerDuty’s)']] },
  opsgenie: { label: 'Opsgenie', fields: [['api_key', 'API key', 'secret'], ['url', 'API URL (empty: Opsgenie’s)']] },
  sms_twilio: {
    label: 'SMS (Twilio)',
    fields: [['account_sid', 'Account SID'], ['auth_token', 'Auth token', 'secret'], ['from', 'From'], ['to', 'To (one E.164 number a line)', 'list']],
  },
  sms_africastalking: {
    label: 'SMS (Africa’s Talking)',
    fields: [['username', 'Username'], ['api_key', 'API key', 'secret'], ['from', 'Sender id (optional)'], ['to', 'To (one E.164 number a line)', 'list']],
  },
  in_app: { label: 'In-app inbox', fields: [['roles', 'Roles (one a line; empty: everyone)', 'list']] },
};

function settingsFrom(kind, form) {
  const out = {};
  for (const [name, , type] of kinds[kind].fields) {
    const v = (form[name] || '').trim();
    if (type === 'list') {
      const items = v.split('\n').map((s) => s.trim()).filter(Boolean);
      if (items.length) out[name] = items;
    } else if (v) {
      out[name] = name === 'chat_id' && /^-?\d+$/.test(v) ? Number(v) : v;
    }
  }
  return out;
}

// "settings.to[1]" -> "to"; "name" -> "name".
function fieldOf(error) {
  if (!error || !error.field) return null;
  const m = /^settings\.([a-z_]+)/.exec(error.field);
  return m ? m[1] : error.field;
}

function NewChannel({ onCreated }) {
  const [kind, setKind] = useState('email');
  const [name, setName] = useState('');
  const [form, setForm] = useState({});
  const [error, setError] = useState(null);
  const at = fieldOf(error);

  async function submit(e) {
    e.preventDefault();
    setError(null);
    try {
      const r = await post('/api/v1/notification-channels', { name: name.trim(), kind, settings: settingsFrom(kind, form) });
      setName('');
      setForm({});
      onCreated(r.data);
    } catch (err) {
      setError(err);
    }
  }

  const message = (f) => (at === f ? sentence(error.message.replace(/^[^:]*: /, '')) : null);
  const input = (id, label, f, control) => labelled(id, label, message(f), control);
  return html`<form class="card grid-form" onSubmit=${submit} aria-labelledby="new-channel">
    <h2 id="new-channel">Add a channel</h2>
    ${input('ch-name', 'Name', 'name', (a) => html`<input ...${a} value=${name} required onInput=${(e) => setName(e.currentTarget.value)} />`)}
    ${input('ch-kind', 'Kind', 'kind', (a) => html`<select ...${a} value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setForm({}); setError(null); }}>
      ${Object.entries(kinds).map(([k, d]) => html`<option value=${k}>${d.label}</option>`)}
    </select>`)}
    ${kinds[kind].fields.map(([f, label, type, options]) =>
      input(`ch-${f}`, label, f, (a) =>
        type === 'list'
          ? html`<textarea ...${a} rows="2" value=${form[f] || ''} onInput=${(e) => setForm({ ...form, [f]: e.currentTarget.value })}></textarea>`
          : type === 'select'
            ? html`<select ...${a} value=${form[f] || options[0]} onChange=${(e) => setForm({ ...form, [f]: e.currentTarget.value })}>${options.map((o) => html`<option value=${o}>${o}</option>`)}</select>`
            : html`<input ...${a} type=${type === 'secret' ? 'password' : 'text'} autocomplete="off" value=${form[f] || ''} onInput=${(e) => setForm({ ...form, [f]: e.currentTarget.value })} />`,
      ),
    )}
    ${error && !['name', 'kind', ...kinds[kind].fields.map((x) => x[0])].includes(at) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    <div><button type="submit" class="primary">Add channel</button></div>
  </form>`;
}

export function Channels({ me }) {
  const { data: channels, error, reload: load } = useApi('/api/v1/notification-channels?per_page=500');
  const [results, setResults] = useState({}); // channel id -> test result or error
  const [busy, setBusy] = useState(null);
  const [notice, setNotice] = useState(null);
  const canWrite = me.permissions.includes('notifications:write');


  async function test(c) {
    setBusy(c.id);
    try {
      const r = await post(`/api/v1/notification-channels/${c.id}/test`);
      setResults({ ...results, [c.id]: r.data });
    } catch (e) {
      setResults({ ...results, [c.id]: { error: e.message } });
    } finally {
      setBusy(null);
      load();
    }
  }

  async function toggle(c) {
    try {
      await patch(`/api/v1/notification-channels/${c.id}`, { enabled: !c.enabled });
      load();
    } catch (e) {
      setNotice({ ok: false, text: `${c.name}: ${sentence(e.message)}` });
    }
  }

  async function remove(c) {
    if (!window.confirm(`Delete the channel “${c.name}”?`)) return;
    try {
      await del(`/api/v1/notification-channels/${c.id}`);
      setNotice({ ok: true, text: `${c.name} deleted` });
      load();
    } catch (e) {
      setNotice({ ok: false, text: `${c.name}: ${sentence(e.message)}` });
    }
  }

  function testOutcome(c) {
    const r = results[c.id];
    if (!r) return null;
    if (r.error) return html`<span class="error">${sentence(r.error)}</span>`;
    return html`<span class=${r.delivered ? 'ok' : 'error'}>
      ${r.delivered ? 'Delivered' : 'Not delivered'}${r.remote_status !== null ? ` (${r.remote_status})` : ''} in ${r.latency_ms} ms${r.detail ? `: ${r.detail}` : ''}
    </span>`;
  }

  return html`<section class="page">
    <${NotifyTabs} />
    <h1>Notification channels</h1>
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${channels &&
    (channels.length === 0
      ? html`<p class="empty">No channels yet: alerts reach nobody until one is added and a policy sends to it.</p>`
      : html`<table class="list">
          <caption class="sr-only">Notification channels</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Health</th><th scope="col">Test</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>
            ${channels.map(
              (c) => html`<tr>
                <td>${c.name}${!c.enabled && html` <span class="badge">disabled</span>`}</td>
                <td>${(kinds[c.kind] && kinds[c.kind].label) || c.kind}</td>
                <td>
                  <span class=${c.health.state === 'ok' ? 'ok' : c.health.state === 'failing' ? 'error' : 'muted'}>${c.health.state}</span>
                  ${c.health.last_error && html`<br /><span class="muted">${c.health.last_error}</span>`}
                  ${c.health.last_success_at && html`<br /><span class="muted">last delivered ${formatAgo(c.health.last_success_at)}</span>`}
                </td>
                <td role="status">${testOutcome(c)}</td>
                ${canWrite &&
                html`<td class="actions">
                  <button type="button" disabled=${busy === c.id} onClick=${() => test(c)}>Send test<span class="sr-only"> to ${c.name}</span></button>
                  <button type="button" onClick=${() => toggle(c)}>${c.enabled ? 'Disable' : 'Enable'}<span class="sr-only"> ${c.name}</span></button>
                  <button type="button" onClick=${() => remove(c)}>Delete<span class="sr-only"> ${c.name}</span></button>
                </td>`}
              </tr>`,
            )}
          </tbody>
        </table>`)}
    ${canWrite && html`<${NewChannel} onCreated=${(c) => { setNotice({ ok: true, text: `${c.name} added` }); load(); }} />`}
  </section>`;
}
