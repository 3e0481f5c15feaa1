// One panel's settings: what it shows (a metric selector with the store's metric names to pick
// from, the function, how series combine), how (kind, unit, scale, range of a gauge, thresholds),
// or for a status grid which devices. The server checks the whole dashboard when it is saved and
// its message comes back beside the field it names.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { useMetricNames } from '../lib/use_api.js';
import { aggOptions, fnOptions, groupOptions } from '../lib/panel_data.js';
import { unitNames } from '../lib/units.js';
import { kindNames } from './panels.js';
import { sentence } from '../lib/format.js';

function threshold(panel, severity) {
  const t = (panel.thresholds || []).find((x) => x.severity === severity);
  return t ? String(t.value) : '';
}

// The form's text fields from a panel, and back.
function toForm(p) {
  const q = p.query || {};
  return {
    title: p.title || '',
    kind: p.kind,
    selector: q.selector || '',
    fn: q.fn || '',
    agg: q.agg || '',
    group: q.group || '',
    by: (q.by || []).join(', '),
    topk: q.topk ? String(q.topk) : '',
    scale: q.scale && q.scale !== 1 ? String(q.scale) : '',
    unit: p.unit || '',
    min: p.min ?? '',
    max: p.max ?? '',
    warning: threshold(p, 'warning'),
    critical: threshold(p, 'critical'),
    group_name: (p.devices && p.devices.group) || '',
    tag: (p.devices && p.devices.tag) || '',
  };
}

function num(text) {
  const t = String(text).trim();
  return t === '' ? null : Number(t);
}

function fromForm(f, base) {
  const p = { ...base, title: f.title.trim(), kind: f.kind, unit: f.unit };
  if (f.kind === 'status') {
    p.query = null;
    p.devices = f.group_name.trim() || f.tag.trim() ? { group: f.group_name.trim() || null, tag: f.tag.trim() || null } : null;
  } else {
    p.devices = null;
    p.query = {
      selector: f.selector.trim(),
      fn: f.fn || null,
      agg: f.agg || null,
      group: f.group || null,
      by: f.by.split(',').map((s) => s.trim()).filter(Boolean),
      topk: num(f.topk),
      scale: num(f.scale) ?? 1,
    };
  }
  p.min = num(f.min);
  p.max = num(f.max);
  p.thresholds = [];
  if (num(f.warning) !== null) p.thresholds.push({ value: num(f.warning), severity: 'warning' });
  if (num(f.critical) !== null) p.thresholds.push({ value: num(f.critical), severity: 'critical' });
  return p;
}

// `error`: the server's error for this panel ({field: 'query.selector', message}) or null.
export function PanelEditor({ panel, error, onApply, onCancel }) {
  const [f, setF] = useState(() => toForm(panel));
  const [local, setLocal] = useState(null);
  const names = useMetricNames();
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const shown = local || error;
  const msg = (field) => (shown && shown.field === field ? sentence(shown.message) : null);
  const id = (k) => `pe-${k}`;

  function field(label, key, serverField, input = {}) {
    const m = msg(serverField || key);
    return html`<div class="field">
      <label for=${id(key)}>${label}</label>
      <input
        id=${id(key)}
        value=${f[key]}
        onInput=${set(key)}
        aria-invalid=${m ? 'true' : undefined}
        aria-describedby=${m ? id(key) + '-error' : undefined}
        ...${input}
      />
      ${m && html`<span class="field-error" id=${id(key) + '-error'}>${m}</span>`}
    </div>`;
  }

  function select(label, key, options, serverField) {
    const m = msg(serverField || key);
    return html`<div class="field">
      <label for=${id(key)}>${label}</label>
      <select id=${id(key)} value=${f[key]} onChange=${set(key)} aria-invalid=${m ? 'true' : undefined} aria-describedby=${m ? id(key) + '-error' : undefined}>
        ${Object.entries(options).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
      </select>
      ${m && html`<span class="field-error" id=${id(key) + '-error'}>${m}</span>`}
    </div>`;
  }

  function apply(e) {
    e.preventDefault();
    if (f.kind !== 'status' && !f.selector.trim()) {
      setLocal({ field: 'query.selector', message: 'a metric or selector is required, e.g. icmp_rtt_avg_ms{host="core-1"}' });
      return;
    }
    for (const k of ['topk', 'scale', 'min', 'max', 'warning', 'critical']) {
      if (num(f[k]) !== null && !Number.isFinite(num(f[k]))) {
        setLocal({ field: k === 'topk' || k === 'scale' ? 'query.' + k : k, message: 'must be a number' });
        return;
      }
    }
    setLocal(null);
    onApply(fromForm(f, panel));
  }

  const isStatus = f.kind === 'status';
  return html`<form class="card grid-form panel-editor" onSubmit=${apply} aria-labelledby="pe-heading">
    <h2 id="pe-heading">${panel.title ? `Panel “${panel.title}”` : 'New panel'}</h2>
    ${field('Title', 'title')}
    ${select('Kind', 'kind', kindNames)}
    ${isStatus
      ? html`${field('Device group (empty: all)', 'group_name', 'devices.group')}
          ${field('Device tag (empty: all)', 'tag', 'devices.tag')}`
      : html`${field('Metric or selector', 'selector', 'query.selector', { list: 'pe-metrics', placeholder: 'ifHCInOctets{host="core-1"}', autocomplete: 'off', spellcheck: false })}
          <datalist id="pe-metrics">${names.map((n) => html`<option value=${n} />`)}</datalist>
          ${select('Function', 'fn', fnOptions, 'query.fn')}
          ${select('Over each step', 'agg', aggOptions, 'query.agg')}
          ${select('Combine series', 'group', groupOptions, 'query.group')}
          ${field('Group by labels (comma-separated)', 'by', 'query.by', { placeholder: 'host' })}
          ${field('Keep the top N series', 'topk', 'query.topk', { inputmode: 'numeric' })}
          ${field('Multiply by (8: bytes to bits)', 'scale', 'query.scale', { inputmode: 'decimal' })}`}
    ${!isStatus && select('Unit', 'unit', unitNames)}
    ${f.kind === 'gauge' && html`${field('Gauge minimum', 'min', 'min', { inputmode: 'decimal' })}${field('Gauge maximum', 'max', 'max', { inputmode: 'decimal' })}`}
    ${(f.kind === 'stat' || f.kind === 'gauge') &&
    html`${field('Warning at', 'warning', 'thresholds', { inputmode: 'decimal' })}${field('Critical at', 'critical', 'thresholds', { inputmode: 'decimal' })}`}
    ${shown && !['title', 'kind', 'query.selector', 'query.fn', 'query.agg', 'query.group', 'query.by', 'query.topk', 'query.scale', 'unit', 'min', 'max', 'thresholds', 'devices.group', 'devices.tag'].includes(shown.field) &&
    html`<p class="error" role="alert">${sentence(shown.message)}</p>`}
    <div class="toolbar">
      <button type="submit" class="primary">Apply</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}
