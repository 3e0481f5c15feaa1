// KPI entry: the operator's form for values measured by hand (POST /api/v1/kpis), with the API's
// message beside the field it names, and the organization's recent entries, everyone's (the
// event log's "kpi" events: GET /api/v1/events?kind=kpi), kept live over the feed.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { useLiveReload } from '../lib/live.js';
import { formatTime, sentence } from '../lib/format.js';
import { Field, fieldMessage } from '../components/field.js';

// "site=lagos\nteam=noc" -> {site: "lagos", team: "noc"}; a line without "=" is an error.
function parseTags(text) {
  const tags = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`"${line}" is not name=value`);
    tags[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return tags;
}

export function KpiEntry({ me }) {
  const empty = { metric_name: '', value: '', timestamp: '', tags: '', note: '' };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [entries, setEntries] = useState(null);
  const [last, setLast] = useState(null); // the answer to this page's last entry
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const canWrite = me.permissions.includes('metrics:write');
  const canList = me.permissions.includes('devices:read');

  async function loadEntries() {
    if (!canList) return;
    try {
      const r = await get('/api/v1/events?kind=kpi&per_page=20');
      setEntries(r.data.map((e) => ({ ...e.details, at: e.at })));
    } catch {
      setEntries([]);
    }
  }
  useEffect(() => {
    loadEntries();
  }, []);
  useLiveReload(['events'], loadEntries, { delay: 500 });

  async function submit(e) {
    e.preventDefault();
    setError(null);
    let tags;
    try {
      tags = parseTags(form.tags);
    } catch (err) {
      setError({ field: 'tags', message: err.message });
      return;
    }
    // The value goes as typed when it is not a number, so the server's message names it.
    const number = form.value.trim() === '' ? form.value : Number(form.value);
    const body = {
      metric_name: form.metric_name.trim(),
      value: Number.isNaN(number) ? form.value : number,
      tags,
    };
    if (form.timestamp) body.timestamp = Math.floor(new Date(form.timestamp).getTime() / 1000);
    if (form.note.trim()) body.note = form.note.trim();
    setBusy(true);
    try {
      const r = await post('/api/v1/kpis', body);
      setLast(r.data);
      loadEntries();
      setForm({ ...empty, metric_name: form.metric_name, tags: form.tags });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!canWrite) {
    return html`<section class="page"><h1>KPI entry</h1>
      <p class="error" role="alert">Your role (${me.role}) may not enter values: it needs metrics:write.</p></section>`;
  }
  const known = ['metric_name', 'value', 'timestamp', 'tags', 'note'];
  return html`
    <section class="page">
      <h1>KPI entry</h1>
      <form class="card grid-form" onSubmit=${submit} aria-labelledby="kpi-form">
        <h2 id="kpi-form">Enter a value</h2>
        <${Field} label="Metric" name="metric_name" required placeholder="subscribers_active" value=${form.metric_name} error=${error} onInput=${set('metric_name')} />
        <${Field} label="Value" name="value" inputmode="decimal" required value=${form.value} error=${error} onInput=${set('value')} />
        <${Field} label="Time (empty: now)" name="timestamp" type="datetime-local" value=${form.timestamp} error=${error} onInput=${set('timestamp')} />
        <div class="field">
          <label for="kpi-tags">Tags, one name=value a line</label>
          <textarea id="kpi-tags" rows="2" value=${form.tags} aria-invalid=${fieldMessage(error, 'tags') ? 'true' : undefined} aria-describedby=${fieldMessage(error, 'tags') ? 'kpi-tags-error' : undefined} onInput=${set('tags')}></textarea>
          ${fieldMessage(error, 'tags') && html`<span class="field-error" id="kpi-tags-error">${fieldMessage(error, 'tags')}</span>`}
        </div>
        <${Field} label="Note" name="note" value=${form.note} error=${error} onInput=${set('note')} />
        ${error && !known.includes(error.field) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
        <div><button type="submit" class="primary" disabled=${busy}>Enter</button></div>
      </form>
      ${last && html`<p class="notice" role="status">Stored: ${last.metric_name} = ${last.value} at ${formatTime(last.timestamp)}${last.duplicate ? ' (the same value was already stored for that time)' : ''}.</p>`}
      <section class="card" aria-labelledby="kpi-recent">
        <h2 id="kpi-recent">Recent entries</h2>
        ${!canList
          ? html`<p class="muted">Your role cannot read the event log, where entries are listed.</p>`
          : !entries
            ? html`<p class="muted">Loading…</p>`
            : entries.length === 0
              ? html`<p class="empty">No values entered yet.</p>`
              : html`<table class="list">
                  <caption class="sr-only">The 20 latest values entered by hand, by anyone in the organization</caption>
                  <thead><tr><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">For</th><th scope="col">Tags</th><th scope="col">Note</th><th scope="col">Entered by</th></tr></thead>
                  <tbody>
                    ${entries.map(
                      (k) => html`<tr>
                        <td>${k.metric_name}</td>
                        <td>${k.value}</td>
                        <td>${formatTime(k.timestamp)}</td>
                        <td>${Object.entries(k.tags || {}).map(([n, v]) => `${n}=${v}`).join(', ') || '—'}</td>
                        <td>${k.note || '—'}</td>
                        <td>${k.entered_by}<br /><span class="muted">${formatTime(k.at)}</span></td>
                      </tr>`,
                    )}
                  </tbody>
                </table>`}
      </section>
    </section>
  `;
}
