// Alert rules: the list (each with what it watches and how many of its alerts fire), and the
// editor, which replays the rule over the stored samples before it is saved: the series drawn
// with the threshold and a mark at every would-be firing, and each firing and clearing listed.
// The server checks the rule and its message comes back beside the field it names.
// docs/alerts.md has the rule's fields.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { del, get, patch, post, put } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { formatTime, sentence } from '../lib/format.js';
import { labelled } from '../components/field.js';
import { AlertsTabs } from '../components/alerts_tabs.js';
import { Chart, palette, toColumns } from '../components/chart.js';
import { seriesName } from '../lib/panel_data.js';
import { useApi } from '../lib/use_api.js';

const kinds = {
  threshold: 'Threshold on series',
  no_data: 'No data from series',
  device_down: 'Device down',
  interface_down: 'Interface down',
  check_failing: 'Service check failing',
};
const fns = { value: 'Each value', rate: 'Rate per second (counters)', avg: 'Average over a window', min: 'Minimum over a window', max: 'Maximum over a window', p95: '95th percentile over a window' };
const ops = ['>', '>=', '<', '<=', '==', '!='];
const severities = { critical: 'Critical', warning: 'Warning', info: 'Info' };

export function Rules({ me }) {
  const { data: rules, error, reload } = useApi('/api/v1/alert-rules?per_page=500');
  const [notice, setNotice] = useState(null);
  const canWrite = me.permissions.includes('alerts:write');

  async function toggle(r) {
    try {
      await patch(`/api/v1/alert-rules/${r.id}`, { enabled: !r.enabled });
      reload();
    } catch (e) {
      setNotice({ ok: false, text: `${r.name}: ${sentence(e.message)}` });
    }
  }
  async function remove(r) {
    if (!window.confirm(`Delete the rule “${r.name}”? Its open alerts resolve.`)) return;
    try {
      await del(`/api/v1/alert-rules/${r.id}`);
      setNotice({ ok: true, text: `${r.name} deleted` });
      reload();
    } catch (e) {
      setNotice({ ok: false, text: `${r.name}: ${sentence(e.message)}` });
    }
  }

  return html`<section class="page">
    <${AlertsTabs} />
    <h1>Alert rules</h1>
    ${canWrite && html`<p><a class="button" href="/alerts/rules/new">New rule</a></p>`}
    ${notice && html`<p class=${notice.ok ? 'notice' : 'error'} role="status">${notice.text}</p>`}
    ${error && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
    ${rules &&
    html`<table class="list">
      <caption class="sr-only">Alert rules</caption>
      <thead><tr><th scope="col">Rule</th><th scope="col">Kind</th><th scope="col">Watches</th><th scope="col">Severity</th><th scope="col">Now</th>${canWrite && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
      <tbody>
        ${rules.map(
          (r) => html`<tr>
            <td><a href=${`/alerts/rules/${r.id}`}>${r.name}</a>${!r.enabled && html` <span class="badge">disabled</span>`}${r.builtin && html` <span class="muted">(built in)</span>`}</td>
            <td>${kinds[r.kind] || r.kind}</td>
            <td>${r.selector ? html`<code>${r.selector}</code>` : '—'}${r.condition && ` ${r.condition.op} ${r.condition.value}`}</td>
            <td><span class=${'badge sev-' + r.severity}>${r.severity}</span></td>
            <td>${r.status ? `${r.status.firing} firing of ${r.status.subjects}` : '—'}</td>
            ${canWrite && html`<td class="actions">
              <button type="button" onClick=${() => toggle(r)}>${r.enabled ? 'Disable' : 'Enable'}<span class="sr-only"> ${r.name}</span></button>
              <button type="button" onClick=${() => remove(r)}>Delete<span class="sr-only"> ${r.name}</span></button>
            </td>`}
          </tr>`,
        )}
      </tbody>
    </table>`}
  </section>`;
}

const blank = { name: '', kind: 'threshold', selector: '', fn: 'value', window_s: '300', op: '>', value: '', clear: '', for_s: '0', severity: 'warning', summary: '', enabled: true };

function fromRule(r) {
  const c = r.condition || {};
  return {
    ...blank,
    name: r.name,
    kind: r.kind,
    selector: r.selector || '',
    fn: c.fn || 'value',
    window_s: c.window_s ? String(c.window_s) : '300',
    op: c.op || '>',
    value: c.value !== undefined ? String(c.value) : '',
    clear: c.clear !== undefined && c.clear !== null ? String(c.clear) : '',
    for_s: String(r.for_s || 0),
    severity: r.severity,
    summary: (r.annotations && r.annotations.summary) || '',
    enabled: r.enabled,
  };
}

const num = (t) => (String(t).trim() === '' ? undefined : Number.isFinite(Number(t)) ? Number(t) : t);

function ruleOf(f, base = {}) {
  const r = { ...base, name: f.name.trim(), kind: f.kind, severity: f.severity, for_s: num(f.for_s) ?? 0, enabled: f.enabled };
  for (const k of ['id', 'builtin', 'created_at', 'updated_at', 'status', 'selector', 'condition']) delete r[k];
  if (f.kind === 'threshold' || f.kind === 'no_data') r.selector = f.selector.trim();
  if (f.kind === 'threshold') {
    r.condition = { fn: f.fn, op: f.op, value: num(f.value) };
    if (f.fn !== 'value' && f.fn !== 'rate') r.condition.window_s = num(f.window_s);
    if (num(f.clear) !== undefined) r.condition.clear = num(f.clear);
  }
  r.annotations = { ...(base.annotations || {}) };
  if (f.summary.trim()) r.annotations.summary = f.summary.trim();
  else delete r.annotations.summary;
  return r;
}

export function RuleEditor({ id, me }) {
  const editing = Boolean(id);
  const [f, setF] = useState(editing ? null : blank);
  const [base, setBase] = useState({});
  const [error, setError] = useState(null);
  const [bt, setBt] = useState(null); // {busy} | {result, columns, series} | {error}
  const [busy, setBusy] = useState(false);
  const canWrite = me.permissions.includes('alerts:write');

  useEffect(() => {
    if (!editing) return;
    get(`/api/v1/alert-rules/${id}`)
      .then((r) => {
        setBase(r.data);
        setF(fromRule(r.data));
      })
      .catch(setError);
  }, [id]);

  if (!f) {
    return html`<section class="page"><h1>Alert rule</h1>${error ? html`<p class="error" role="alert">${sentence(error.message)}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  }

  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const at = error && error.field ? error.field : null;
  const msg = (k) => (at === k ? sentence(error.message.replace(/^[^:]*: /, '')) : null);
  const input = (label, k, field = k, extra = {}) => labelled(`ru-${k}`, label, msg(field), (a) => html`<input ...${a} value=${f[k]} onInput=${set(k)} ...${extra} />`);
  const select = (label, k, options, field = k) =>
    labelled(`ru-${k}`, label, msg(field), (a) => html`<select ...${a} value=${f[k]} onChange=${set(k)}>${Object.entries(options).map(([v, n]) => html`<option value=${v}>${n}</option>`)}</select>`);

  async function backtest() {
    setError(null);
    setBt({ busy: true });
    const end = Math.floor(Date.now() / 1000);
    const start = end - 86400;
    try {
      const rule = ruleOf(f, base);
      const [r, data] = await Promise.all([
        post('/api/v1/alert-rules/backtest', { rule, start, end }),
        rule.selector
          ? post('/api/v1/query_batch', { queries: [{ query: rule.selector, start, end, points: 1000, topk: 5 }] })
          : Promise.resolve(null),
      ]);
      const series = data && !data.data.results[0].error ? data.data.results[0].series : [];
      const fired = r.data.events.filter((e) => e.transition === 'firing');
      const lines = [...series];
      // Red is kept for the would-be firings.
      const colors = palette.filter((c) => c !== '--series-2');
      const defs = series.map((s, i) => ({ label: seriesName(s), color: colors[i % colors.length] }));
      if (rule.condition && typeof rule.condition.value === 'number' && series.length) {
        lines.push({ points: [[start, rule.condition.value], [end, rule.condition.value]] });
        defs.push({ label: `threshold ${rule.condition.op} ${rule.condition.value}`, color: '--warning', dash: true });
      }
      if (fired.length) {
        lines.push({ points: fired.map((e) => [e.at, e.value]) });
        defs.push({ label: 'would fire', color: '--critical', dots: true });
      }
      setBt({ result: r.data, columns: lines.length ? toColumns(lines) : null, defs, range: [start, end] });
    } catch (err) {
      if (err.field && err.field.startsWith('rule.')) setError({ ...err, field: err.field.slice(5), message: err.message.replace(/^rule\./, '') });
      else setError(err);
      setBt(null);
    }
  }

  async function save(e) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const rule = ruleOf(f, base);
      const r = editing ? await put(`/api/v1/alert-rules/${id}`, rule) : await post('/api/v1/alert-rules', rule);
      navigate(`/alerts/rules/${r.data.id}`);
      if (editing) {
        setBase(r.data);
        setF(fromRule(r.data));
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const series = f.kind === 'threshold' || f.kind === 'no_data';
  const known = ['name', 'kind', 'selector', 'condition.fn', 'condition.window_s', 'condition.op', 'condition.value', 'condition.clear', 'for_s', 'severity', 'annotations.summary'];
  const result = bt && bt.result;
  return html`<section class="page">
    <p><a href="/alerts/rules">← Alert rules</a></p>
    <h1>${editing ? f.name || 'Alert rule' : 'New alert rule'}</h1>
    <form class="card grid-form" onSubmit=${save} aria-labelledby="ru-form">
      <h2 id="ru-form">The rule</h2>
      ${input('Name', 'name', 'name', { required: true })}
      ${select('Kind', 'kind', kinds)}
      ${series && input('Series (selector)', 'selector', 'selector', { placeholder: 'icmp_loss_pct{host="core-1"}', spellcheck: false })}
      ${f.kind === 'threshold' &&
      html`${select('Of', 'fn', fns, 'condition.fn')}
        ${f.fn !== 'value' && f.fn !== 'rate' && input('Window (seconds)', 'window_s', 'condition.window_s', { inputmode: 'numeric' })}
        ${select('Fires when it is', 'op', Object.fromEntries(ops.map((o) => [o, o])), 'condition.op')}
        ${input('Value', 'value', 'condition.value', { inputmode: 'decimal' })}
        ${input('Clears only past (optional)', 'clear', 'condition.clear', { inputmode: 'decimal' })}`}
      ${input('For (seconds)', 'for_s', 'for_s', { inputmode: 'numeric' })}
      ${select('Severity', 'severity', severities)}
      ${input('Summary ({device}, {value}, {threshold}, {labels.name})', 'summary', 'annotations.summary')}
      <label class="check"><input type="checkbox" checked=${f.enabled} onChange=${set('enabled')} /> Enabled</label>
      ${error && !known.includes(at) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
      <div class="toolbar">
        <button type="button" onClick=${backtest} disabled=${bt && bt.busy}>Backtest the last 24 hours</button>
        ${canWrite && html`<button type="submit" class="primary" disabled=${busy}>${editing ? 'Save' : 'Create rule'}</button>`}
      </div>
    </form>
    ${bt && bt.busy && html`<p class="muted" role="status">Replaying the stored samples…</p>`}
    ${result &&
    html`<section class="card" aria-labelledby="ru-bt">
      <h2 id="ru-bt">Backtest: ${result.events.filter((e) => e.transition === 'firing').length} would-be firing(s) over ${result.series} series (${result.samples} samples)</h2>
      <p class="muted">${formatTime(result.start)} – ${formatTime(result.end)}${result.truncated ? ' · cut short: the rule selects more than a backtest reads' : ''}</p>
      ${bt.columns && html`<${Chart} label="Backtest" summary=${`${result.events.length} transitions`} data=${bt.columns} series=${bt.defs} range=${bt.range} height=${260} />`}
      ${result.events.length === 0
        ? html`<p class="empty">It would not have fired.</p>`
        : html`<table class="list compact">
            <caption class="sr-only">Would-be transitions</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Would be</th><th scope="col">Series</th><th scope="col" class="num">Value</th></tr></thead>
            <tbody>${result.events.slice(0, 200).map((e) => html`<tr><td>${formatTime(e.at)}</td><td>${e.transition}</td><td>${e.subject}</td><td class="num">${e.value}</td></tr>`)}</tbody>
          </table>`}
    </section>`}
  </section>`;
}
