// Admin → Settings (system administrators: settings:admin; docs/settings.md): every key of the
// server's configuration with the value it runs with and where that came from. The keys marked
// "applies now" or "after a restart" may be changed here (PATCH /api/v1/settings): saved in the
// database, they win over the config file and the environment; "Use the file's value" takes one
// back. The others are the config file's. Changes are saved together; the server checks them with
// the whole configuration and its message comes back beside the field it names. Secrets are never
// shown, only whether they are set.
import { useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { patch } from '../lib/api.js';
import { formatTime, sentence } from '../lib/format.js';
import { AdminTabs } from '../components/admin_tabs.js';
import { useApi } from '../lib/use_api.js';

const APPLY = {
  live: 'Applies now',
  restart: 'After a restart',
  file: 'Config file only',
};

// The text an input shows for a value of the key's type.
function asText(s, v) {
  if (v === null || v === undefined) return '';
  if (s.type === 'list') return v.join('\n');
  return String(v);
}

// The JSON sent for what was typed. A number that does not parse is sent as typed, so the server
// says what is wrong with it, beside the field.
function fromText(s, text) {
  if (s.type === 'boolean') return text === true || text === 'true';
  if (s.type === 'list') return String(text).split('\n').map((x) => x.trim()).filter(Boolean);
  if (s.type === 'integer') return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
  if (s.type === 'number') return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  return text;
}

function display(s, v) {
  if (s.secret) return v ? 'set' : 'not set';
  if (s.type === 'list') return v && v.length ? v.join(', ') : '(none)';
  if (s.type === 'string') return v === '' ? '(empty)' : v;
  return String(v);
}

function source(s) {
  if (s.saved && !s.saved.problem) return `Saved here by ${s.saved.updated_by || 'someone'}, ${formatTime(s.saved.updated_at)}`;
  if (s.base_source === 'file') return 'From the config file';
  if (s.base_source === 'environment') return 'From the environment';
  return 'Default';
}

// Problems of the last save, by key.
function problemsByKey(error) {
  const out = {};
  if (!error) return out;
  const list = (error.details && error.details.problems) || [];
  for (const p of list) out[p.field] = p.reason;
  if (error.field && !out[error.field]) out[error.field] = error.details.reason || error.message;
  return out;
}

function Control({ s, id, value, onChange, invalid }) {
  const common = {
    id,
    name: s.key,
    'aria-invalid': invalid ? 'true' : undefined,
    'aria-describedby': `${id}-about${invalid ? ` ${id}-error` : ''}`,
  };
  if (s.type === 'boolean') {
    return html`<select ...${common} value=${String(value)} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="true">true</option><option value="false">false</option>
    </select>`;
  }
  if (s.choices) {
    return html`<select ...${common} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${s.choices.map((c) => html`<option value=${c}>${c}</option>`)}
    </select>`;
  }
  if (s.type === 'list') {
    return html`<textarea ...${common} rows="3" value=${value} onInput=${(e) => onChange(e.currentTarget.value)}></textarea>`;
  }
  if (s.secret) {
    return html`<input ...${common} type="password" autocomplete="new-password" value=${value} placeholder=${s.set ? 'set: type to replace' : 'not set'} onInput=${(e) => onChange(e.currentTarget.value)} />`;
  }
  const numeric = s.type === 'integer' || s.type === 'number';
  return html`<input ...${common} type="text" inputmode=${numeric ? 'decimal' : undefined} spellcheck="false" value=${value} onInput=${(e) => onChange(e.currentTarget.value)} />`;
}

// `shared`: the key has the description of the one above it (one comment over several keys in
// the file), shown once.
function Setting({ s, shared, draft, setDraft, problem, onRevert, busy }) {
  const id = `set-${s.key.replaceAll('.', '-')}`;
  const editable = s.apply !== 'file';
  const shown = draft !== undefined ? draft : s.secret ? '' : asText(s, s.value);
  return html`<div class=${`setting${draft !== undefined ? ' dirty' : ''}`} id=${`row-${id}`}>
    <div class="setting-name">
      ${editable ? html`<label for=${id}><code>${s.key}</code></label>` : html`<code id=${id}>${s.key}</code>`}
      <span class=${`apply apply-${s.apply}`}>${APPLY[s.apply]}</span>
    </div>
    <div class="setting-value">
      ${editable
        ? html`<${Control} s=${s} id=${id} value=${shown} invalid=${!!problem} onChange=${(v) => setDraft(s.key, v)} />`
        : html`<span class="value">${display(s, s.secret ? s.set : s.value)}</span>`}
      ${problem && html`<span class="field-error" id=${`${id}-error`}>${sentence(problem)}.</span>`}
    </div>
    <div class="setting-about" id=${`${id}-about`}>
      ${s.description && !shared && html`<p>${s.description}</p>`}
      <p class="muted">
        ${source(s)}${s.saved && !s.saved.problem && html` · the file's: ${display(s, s.secret ? s.base_set : s.base)}`}
        ${s.pending_restart && html` · <strong>next start: ${s.secret ? 'changed' : display(s, s.next)}</strong>`}
      </p>
      ${s.saved && s.saved.problem && html`<p class="field-error">The value saved here (${display(s, s.saved.value)}) is left out: ${s.saved.problem}</p>`}
      ${s.saved && html`<button type="button" disabled=${busy} onClick=${() => onRevert(s.key)}>Use the file's value<span class="sr-only"> for ${s.key}</span></button>`}
    </div>
  </div>`;
}

export function Settings({ me }) {
  const allowed = me.permissions.includes('settings:admin');
  // A PATCH answers what GET does: the page shows the answer, without reading it again.
  const { data, error: loadError, setData } = useApi(allowed ? '/api/v1/settings' : null);
  const [drafts, setDrafts] = useState({});
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [query, setQuery] = useState('');
  const [onlyEditable, setOnlyEditable] = useState(true);
  const [onlyChanged, setOnlyChanged] = useState(false);

  const settings = data ? data.settings : [];
  const byKey = useMemo(() => Object.fromEntries(settings.map((s) => [s.key, s])), [settings]);
  const problems = problemsByKey(error);
  const dirty = Object.keys(drafts);

  const setDraft = (key, v) => setDrafts({ ...drafts, [key]: v });

  async function send(body, done) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const answer = (await patch('/api/v1/settings', body)).data;
      const keys = Object.keys(body);
      const later = keys.filter((k) => byKey[k] && byKey[k].apply === 'restart');
      const saved = keys.length > 3 ? `${keys.length} settings` : keys.join(', ');
      const when = later.length
        ? `${later.join(', ')} ${later.length === 1 ? 'applies' : 'apply'} when NetPulse restarts`
        : 'in effect now';
      setNotice(`${saved} saved; ${when}`);
      done();
      setData(answer);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function save(e) {
    e.preventDefault();
    const body = {};
    for (const key of dirty) {
      const s = byKey[key];
      if (!s) continue;
      if (s.secret && drafts[key] === '') continue; // nothing typed: keep the secret
      body[key] = fromText(s, drafts[key]);
    }
    if (!Object.keys(body).length) {
      setDrafts({});
      return;
    }
    send(body, () => setDrafts({}));
  }

  function revert(key) {
    send({ [key]: null }, () => {
      const rest = { ...drafts };
      delete rest[key];
      setDrafts(rest);
    });
  }

  if (!allowed) {
    return html`<section class="page"><${AdminTabs} me=${me} /><h1>Settings</h1>
      <p class="error" role="alert">Only administrators of the system organization change the server's settings.</p></section>`;
  }

  const q = query.trim().toLowerCase();
  const visible = settings.filter(
    (s) =>
      (!onlyEditable || s.apply !== 'file') &&
      (!onlyChanged || s.saved || s.base_source !== 'default' || s.pending_restart) &&
      (!q || s.key.toLowerCase().includes(q) || s.description.toLowerCase().includes(q)),
  );
  const sections = [];
  for (const s of visible) {
    const last = sections[sections.length - 1];
    if (last && last.name === s.section) last.items.push(s);
    else sections.push({ name: s.section, items: [s] });
  }
  const pending = settings.filter((s) => s.pending_restart);

  return html`<section class="page settings">
    <${AdminTabs} me=${me} />
    <h1>Settings</h1>
    <p class="muted">
      What this server runs with. A setting marked <em>applies now</em> or <em>after a restart</em> may be changed here: it is saved in the database and wins over
      ${data && data.config_file ? html` the config file <code>${data.config_file}</code>` : ' the config file'} and the environment. The others are set in the config file
      (<code>netpulse check-config FILE</code> checks one).
    </p>
    ${loadError && html`<p class="error" role="alert">${sentence(loadError.message)}</p>`}
    ${data &&
    data.problems.length > 0 &&
    html`<div class="error" role="alert"><p>The configuration as it is now would not load at the next start:</p><ul>${data.problems.map((p) => html`<li><code>${p}</code></li>`)}</ul></div>`}
    ${pending.length > 0 &&
    html`<div class="notice warn" role="status">
      <p><strong>Waiting for a restart:</strong> ${pending.map((s, i) => html`${i ? ', ' : ''}<a href=${`#row-set-${s.key.replaceAll('.', '-')}`}><code>${s.key}</code></a>`)}.</p>
      <p>Restart NetPulse to apply ${pending.length === 1 ? 'it' : 'them'}, e.g. <code>sudo systemctl restart netpulse</code>.</p>
    </div>`}
    ${data &&
    data.ignored.filter((x) => !byKey[x.key]).length > 0 &&
    html`<div class="notice warn" role="status">
      <p>Saved settings this version does not have:</p>
      <ul>${data.ignored.filter((x) => !byKey[x.key]).map((x) => html`<li><code>${x.key}</code>: ${x.reason} <button type="button" disabled=${busy} onClick=${() => revert(x.key)}>Delete<span class="sr-only"> ${x.key}</span></button></li>`)}</ul>
    </div>`}
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    ${error && (!Object.keys(problems).length || Object.keys(problems).some((k) => !visible.some((s) => s.key === k))) && html`<p class="error" role="alert">${byKey[error.field] ? error.message : sentence(error.message)}</p>`}
    <div class="toolbar" role="search">
      <label class="inline">Find <input type="search" value=${query} placeholder="key or words" onInput=${(e) => setQuery(e.currentTarget.value)} /></label>
      <label class="check"><input type="checkbox" checked=${onlyEditable} onChange=${(e) => setOnlyEditable(e.currentTarget.checked)} /> Only what can be changed here</label>
      <label class="check"><input type="checkbox" checked=${onlyChanged} onChange=${(e) => setOnlyChanged(e.currentTarget.checked)} /> Only what differs from the default</label>
    </div>
    ${data && !visible.length && html`<p class="empty">No setting matches.</p>`}
    <form onSubmit=${save} aria-label="Settings">
      ${sections.map(
        (sec) => html`<section class="card setting-section" aria-labelledby=${`sec-${sec.name.replaceAll('.', '-')}`}>
          <h2 id=${`sec-${sec.name.replaceAll('.', '-')}`}>[${sec.name}]</h2>
          ${sec.items.map((s, i) => html`<${Setting} key=${s.key} s=${s} shared=${i > 0 && sec.items[i - 1].description === s.description} draft=${drafts[s.key]} setDraft=${setDraft} problem=${problems[s.key]} onRevert=${revert} busy=${busy} />`)}
        </section>`,
      )}
      ${data &&
      html`<div class="save-bar">
        <button type="submit" class="primary" disabled=${busy || !dirty.length}>${dirty.length ? `Save ${dirty.length} change${dirty.length === 1 ? '' : 's'}` : 'No changes'}</button>
        <button type="button" disabled=${busy || !dirty.length} onClick=${() => { setDrafts({}); setError(null); }}>Discard</button>
      </div>`}
    </form>
  </section>`;
}
