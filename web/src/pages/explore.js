// The metric explorer: pick series by metric and labels (with the store's names and values to
// choose from), a range (preset or custom), what to do with them (rate, aggregation over each
// step, combining series, grouping by labels, the top N), overlay the same query a day or a week
// earlier, and download what is drawn as CSV. The query lives in the URL, so it can be shared.
// Both queries (now and earlier) go in one batch request.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { get, post } from '../lib/api.js';
import { formatTime, sentence } from '../lib/format.js';
import { formatValue, unitNames } from '../lib/units.js';
import { aggOptions, fnOptions, groupOptions, latest, rangeNames, ranges, seriesName } from '../lib/panel_data.js';
import { useMetricNames } from '../lib/use_api.js';
import { Chart, palette, toColumns } from '../components/chart.js';

const ops = ['=', '!=', '=~', '!~'];
const compares = { '': 'No comparison', '1d': 'A day earlier', '7d': 'A week earlier' };
const compareSeconds = { '1d': 86400, '7d': 604800 };
const MAX_DRAWN = 20;

function fromUrl() {
  const p = new URLSearchParams(location.search);
  return {
    metric: p.get('metric') || '',
    filters: p.getAll('label').map((f) => {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)(.*)$/.exec(f);
      return m ? { name: m[1], op: m[2], value: m[3] } : null;
    }).filter(Boolean),
    range: ranges[p.get('range')] || p.get('range') === 'custom' ? p.get('range') : '6h',
    from: p.get('from') || '',
    to: p.get('to') || '',
    fn: p.get('fn') || '',
    agg: p.get('agg') || '',
    group: p.get('group') || '',
    by: p.get('by') || '',
    topk: p.get('topk') || '',
    resolution: p.get('resolution') || 'auto',
    compare: compares[p.get('compare')] ? p.get('compare') : '',
    unit: unitNames[p.get('unit')] ? p.get('unit') : '',
  };
}

function toUrl(f) {
  const p = new URLSearchParams();
  if (f.metric) p.set('metric', f.metric);
  for (const x of f.filters) if (x.name && x.value !== '') p.append('label', `${x.name}${x.op}${x.value}`);
  for (const k of ['range', 'fn', 'agg', 'group', 'by', 'topk', 'compare', 'unit']) if (f[k]) p.set(k, f[k]);
  if (f.range === 'custom') {
    p.set('from', f.from);
    p.set('to', f.to);
  }
  if (f.resolution !== 'auto') p.set('resolution', f.resolution);
  return `/explore?${p}`;
}

function quote(v) {
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

// The selector the form describes: the metric as typed when it is one already ({...}).
export function selectorOf(f) {
  const m = f.metric.trim();
  if (m.includes('{')) return m;
  const labels = f.filters.filter((x) => x.name && x.value !== '').map((x) => `${x.name}${x.op}${quote(x.value)}`);
  return labels.length ? `${m}{${labels.join(',')}}` : m;
}

// [start, end] in Unix s, or an error message.
function timeWindow(f) {
  if (f.range !== 'custom') {
    const end = Math.floor(Date.now() / 1000);
    return [end - ranges[f.range], end];
  }
  const start = Math.floor(new Date(f.from).getTime() / 1000);
  const end = Math.floor(new Date(f.to).getTime() / 1000);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return 'pick both a start and an end';
  if (end <= start) return 'the end must be after the start';
  return [start, end];
}

function useNames(path) {
  const [names, setNames] = useState([]);
  useEffect(() => {
    if (!path) return setNames([]);
    let gone = false;
    get(path)
      .then((r) => !gone && setNames(r.data.slice(0, 2000)))
      .catch(() => !gone && setNames([]));
    return () => {
      gone = true;
    };
  }, [path]);
  return names;
}

function csvOf(columns, names) {
  const cell = (v) => (v === null || v === undefined ? '' : String(v));
  const escape = (s) => (/[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
  const lines = [['time', ...names].map(escape).join(',')];
  for (let i = 0; i < columns[0].length; i += 1) {
    lines.push([new Date(columns[0][i] * 1000).toISOString(), ...columns.slice(1).map((c) => cell(c[i]))].map(escape).join(','));
  }
  return lines.join('\n') + '\n';
}

function stats(s) {
  const vs = s.points.map((p) => p[1]).filter((v) => typeof v === 'number');
  if (!vs.length) return { min: null, max: null, avg: null };
  return { min: Math.min(...vs), max: Math.max(...vs), avg: vs.reduce((a, b) => a + b, 0) / vs.length };
}

export function Explore() {
  const [f, setF] = useState(fromUrl);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(f.metric.trim()) ? f.metric.trim() : '';
  const metrics = useMetricNames();
  const labelNames = useNames(metricName ? `/api/v1/labels?match[]=${encodeURIComponent(metricName)}` : null);
  const [valueFor, setValueFor] = useState('');
  const labelValues = useNames(
    metricName && valueFor ? `/api/v1/label/${encodeURIComponent(valueFor)}/values?match[]=${encodeURIComponent(metricName)}` : null,
  );

  async function run(e) {
    if (e) e.preventDefault();
    setError(null);
    const selector = selectorOf(f);
    if (!selector) return setError({ field: 'query', message: 'pick a metric' });
    const w = timeWindow(f);
    if (typeof w === 'string') return setError({ field: 'range', message: w });
    const [start, end] = w;
    const q = { id: 'now', query: selector, start, end };
    if (f.resolution === 'raw') q.points = 11000;
    else q.step = `${Math.max(60, Math.ceil((end - start) / 1000))}s`;
    if (f.fn) q.fn = f.fn;
    if (f.agg) q.agg = f.agg;
    if (f.group) q.group = f.group;
    if (f.by.trim()) q.by = f.by.split(',').map((s) => s.trim()).filter(Boolean);
    if (f.topk) q.topk = f.topk;
    if ((f.group || q.by) && f.resolution === 'raw') return setError({ field: 'resolution', message: 'combining or grouping series needs steps: pick automatic resolution' });
    const queries = [q];
    if (f.compare) {
      const shift = compareSeconds[f.compare];
      queries.push({ ...q, id: 'earlier', start: start - shift, end: end - shift });
    }
    history.replaceState(null, '', toUrl(f));
    setBusy(true);
    try {
      const r = await post('/api/v1/query_batch', { queries });
      const [now, earlier] = r.data.results;
      if (now.error) {
        const field = (now.error.details && now.error.details.field) || '';
        setError({ field: field.replace(/^queries\[0\]\./, ''), message: now.error.message.replace(/^queries\[0\]\.[a-z]+: /, '') });
        setResult(null);
        return;
      }
      const series = now.series.map((s) => ({ ...s, name: seriesName(s) }));
      if (earlier && !earlier.error) {
        const shift = compareSeconds[f.compare];
        for (const s of earlier.series) {
          series.push({ ...s, name: `${seriesName(s)} (${compares[f.compare].toLowerCase()})`, points: s.points.map(([t, v]) => [t + shift, v]) });
        }
      }
      setResult({ series, range: [start, end], selector, tier: now.tier, step: now.step });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    if (f.metric) run();
  }, []);

  const drawn = result ? result.series.slice(0, MAX_DRAWN) : [];
  const columns = useMemo(() => (result ? toColumns(drawn) : null), [result]);
  const fmt = (v) => formatValue(v, f.unit);
  const csvHref = useMemo(() => {
    if (!result || !result.series.length) return null;
    const all = toColumns(result.series);
    return URL.createObjectURL(new Blob([csvOf(all, result.series.map((s) => s.name))], { type: 'text/csv' }));
  }, [result]);
  useEffect(() => () => csvHref && URL.revokeObjectURL(csvHref), [csvHref]);

  const msg = (field) => (error && error.field === field ? sentence(error.message) : null);
  function select(label, key, options, errField) {
    const m = msg(errField || key);
    return html`<div class="field">
      <label for=${'ex-' + key}>${label}</label>
      <select id=${'ex-' + key} value=${f[key]} onChange=${set(key)} aria-invalid=${m ? 'true' : undefined} aria-describedby=${m ? `ex-${key}-error` : undefined}>
        ${Object.entries(options).map(([v, n]) => html`<option value=${v}>${n}</option>`)}
      </select>
      ${m && html`<span class="field-error" id=${`ex-${key}-error`}>${m}</span>`}
    </div>`;
  }
  function input(label, key, errField, extra = {}) {
    const m = msg(errField || key);
    return html`<div class="field">
      <label for=${'ex-' + key}>${label}</label>
      <input id=${'ex-' + key} value=${f[key]} onInput=${set(key)} aria-invalid=${m ? 'true' : undefined} aria-describedby=${m ? `ex-${key}-error` : undefined} ...${extra} />
      ${m && html`<span class="field-error" id=${`ex-${key}-error`}>${m}</span>`}
    </div>`;
  }
  const setFilter = (i, k, v) => setF({ ...f, filters: f.filters.map((x, j) => (j === i ? { ...x, [k]: v } : x)) });
  const known = ['query', 'range', 'fn', 'agg', 'group', 'by', 'topk', 'resolution', 'step', 'start', 'end'];

  return html`<section class="page explore">
    <h1>Metric explorer</h1>
    <form class="card grid-form" onSubmit=${run} aria-labelledby="ex-what">
      <h2 id="ex-what">What to draw</h2>
      ${input('Metric or selector', 'metric', 'query', { list: 'ex-metrics', autocomplete: 'off', spellcheck: false, placeholder: 'icmp_rtt_avg_ms' })}
      <datalist id="ex-metrics">${metrics.map((n) => html`<option value=${n} />`)}</datalist>
      ${metricName &&
      html`<fieldset class="filters">
        <legend>Label filters</legend>
        ${f.filters.map(
          (x, i) => html`<div class="filter-row">
            <label for=${`ex-fl-${i}`} class="sr-only">Label ${i + 1}</label>
            <select id=${`ex-fl-${i}`} value=${x.name} onChange=${(e) => setFilter(i, 'name', e.currentTarget.value)}>
              <option value="">Label…</option>
              ${[...new Set([...labelNames.filter((n) => n !== '__name__'), x.name].filter(Boolean))].map((n) => html`<option value=${n}>${n}</option>`)}
            </select>
            <label for=${`ex-fo-${i}`} class="sr-only">Match ${i + 1}</label>
            <select id=${`ex-fo-${i}`} value=${x.op} onChange=${(e) => setFilter(i, 'op', e.currentTarget.value)}>
              ${ops.map((o) => html`<option value=${o}>${o}</option>`)}
            </select>
            <label for=${`ex-fv-${i}`} class="sr-only">Value ${i + 1}</label>
            <input id=${`ex-fv-${i}`} value=${x.value} list="ex-values" autocomplete="off" onFocus=${() => setValueFor(x.name)}
              onInput=${(e) => setFilter(i, 'value', e.currentTarget.value)} />
            <button type="button" onClick=${() => setF({ ...f, filters: f.filters.filter((_, j) => j !== i) })}>Remove</button>
          </div>`,
        )}
        <datalist id="ex-values">${labelValues.map((v) => html`<option value=${v} />`)}</datalist>
        <button type="button" onClick=${() => setF({ ...f, filters: [...f.filters, { name: '', op: '=', value: '' }] })}>Add a label filter</button>
      </fieldset>`}
      <p class="muted">Selector: <code>${selectorOf(f) || '—'}</code></p>
      ${select('Range', 'range', { ...rangeNames, custom: 'Custom…' })}
      ${f.range === 'custom' &&
      html`${input('From', 'from', 'start', { type: 'datetime-local' })}${input('To', 'to', 'end', { type: 'datetime-local' })}`}
      ${select('Function', 'fn', fnOptions)}
      ${select('Over each step', 'agg', aggOptions)}
      ${select('Combine series', 'group', groupOptions)}
      ${input('Group by labels (comma-separated)', 'by', 'by', { placeholder: 'host' })}
      ${input('Keep the top N series', 'topk', 'topk', { inputmode: 'numeric' })}
      ${select('Resolution', 'resolution', { auto: 'Steps of a minute or more (at most 1,000)', raw: 'Raw samples' }, 'resolution')}
      ${select('Compare with', 'compare', compares)}
      ${select('Unit', 'unit', unitNames)}
      ${error && !known.includes(error.field) && html`<p class="error" role="alert">${sentence(error.message)}</p>`}
      <div class="toolbar"><button type="submit" class="primary" disabled=${busy}>Draw</button></div>
    </form>
    ${result &&
    html`<section class="card" aria-labelledby="ex-result">
      <h2 id="ex-result">${result.selector}</h2>
      <p class="muted">${formatTime(result.range[0])} – ${formatTime(result.range[1])} · ${result.series.length} series · ${result.tier}${result.step ? ` · step ${result.step} s` : ' · raw samples'}
        ${result.series.length > MAX_DRAWN ? ` · the first ${MAX_DRAWN} drawn` : ''}</p>
      ${result.series.length === 0
        ? html`<p class="empty">No data in this range.</p>`
        : html`<${Chart}
              label=${result.selector}
              summary=${`${result.series.length} series of ${result.selector}`}
              data=${columns}
              series=${drawn.map((s, i) => ({ label: s.name, color: palette[i % palette.length] }))}
              range=${result.range}
              format=${fmt}
              height=${320}
            />
            <p><a class="button" href=${csvHref} download="netpulse-explore.csv">Download CSV</a></p>
            <table class="list compact">
              <caption class="sr-only">Series and their figures over the range</caption>
              <thead><tr><th scope="col">Series</th><th scope="col" class="num">Latest</th><th scope="col" class="num">Min</th><th scope="col" class="num">Avg</th><th scope="col" class="num">Max</th></tr></thead>
              <tbody>
                ${result.series.slice(0, 200).map((s) => {
                  const st = stats(s);
                  return html`<tr><td>${s.name}</td><td class="num">${fmt(latest(s))}</td><td class="num">${fmt(st.min)}</td><td class="num">${fmt(st.avg)}</td><td class="num">${fmt(st.max)}</td></tr>`;
                })}
              </tbody>
            </table>`}
    </section>`}
  </section>`;
}
