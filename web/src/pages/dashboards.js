// The organization's dashboards: the default one first, each with what it holds and who saved it
// last; operators make new ones here (a name is enough: panels are added on the dashboard).
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { post } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { formatTime, sentence } from '../lib/format.js';
import { useLiveReload } from '../lib/live.js';
import { Field } from '../components/field.js';
import { useApi } from '../lib/use_api.js';

export function Dashboards({ me }) {
  const { data: list, error, reload: load } = useApi('/api/v1/dashboards');
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState(null);
  const canWrite = me.permissions.includes('dashboards:write');

  useLiveReload(['dashboards'], load);

  async function create(e) {
    e.preventDefault();
    setCreateError(null);
    try {
      const r = await post('/api/v1/dashboards', { name: name.trim(), panels: [] });
      navigate(`/dashboards/${r.data.id}`);
    } catch (err) {
      setCreateError(err);
    }
  }

  return html`<section class="page">
    <h1>Dashboards</h1>
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${list === null && !error && html`<p class="muted">Loading…</p>`}
    ${list &&
    (list.length === 0
      ? html`<p class="empty">No dashboards yet.</p>`
      : html`<table class="list">
          <caption class="sr-only">Dashboards</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Panels</th><th scope="col">Range</th><th scope="col">Last saved</th></tr></thead>
          <tbody>
            ${list.map(
              (d) => html`<tr>
                <td><a href=${`/dashboards/${d.id}`}>${d.name}</a>${d.is_default ? html` <span class="badge">default</span>` : ''}
                  ${d.description && html`<br /><span class="muted">${d.description}</span>`}</td>
                <td>${d.panel_count}</td>
                <td>${d.time_range}</td>
                <td>${formatTime(d.updated_at)}${d.updated_by ? ` by ${d.updated_by}` : ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>`)}
    ${canWrite &&
    html`<form class="card grid-form" onSubmit=${create} aria-labelledby="new-dash">
      <h2 id="new-dash">New dashboard</h2>
      <${Field} label="Name" name="name" required maxlength="100" value=${name} error=${createError} onInput=${(e) => setName(e.currentTarget.value)} />
      ${createError && createError.field !== 'name' && html`<p class="error" role="alert">${sentence(createError.message)}</p>`}
      <div><button type="submit" class="primary">Create</button></div>
    </form>`}
  </section>`;
}
