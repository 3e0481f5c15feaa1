// A dashboard panel's body, by kind: a time-series chart (uPlot), a stat, a gauge, a table, the
// top N, a grid of device statuses. Each shows its loading, empty and error states, and values
// with their units (units.js); thresholds colour stats and gauges.
import { html } from '../lib/html.js';
import { formatValue } from '../lib/units.js';
import { latest, seriesName } from '../lib/panel_data.js';
import { Chart, palette, toColumns } from './chart.js';
import { sentence } from '../lib/format.js';


// The severity of `v` under a panel's thresholds (sorted by value): the last one it reaches.
function severityOf(panel, v) {
  let sev = null;
  for (const t of panel.thresholds || []) if (v !== null && v >= t.value) sev = t.severity;
  return sev;
}

function TimeseriesBody({ panel, result }) {
  const series = result.series.slice(0, 20);
  const columns = toColumns(series);
  const fmt = (v) => formatValue(v, panel.unit);
  const names = series.map(seriesName);
  const last = series.map((s) => latest(s));
  const summary = series.length
    ? `${panel.title || 'Chart'}: ${series.length} series; latest ${names
        .slice(0, 5)
        .map((n, i) => `${n} ${fmt(last[i])}`)
        .join(', ')}`
    : 'no data';
  return html`<${Chart}
    label=${panel.title || 'Time series'}
    summary=${summary}
    data=${columns}
    series=${names.map((n, i) => ({ label: n, color: palette[i % palette.length] }))}
    format=${fmt}
    range=${result.range}
    height="fill"
  />`;
}

// The one value of a stat or gauge: the latest of its first series (a query that combines its
// series with `group` has one).
function single(result) {
  const s = result.series[0];
  return { value: s ? latest(s) : null, name: s ? seriesName(s) : '', count: result.series.length };
}

function StatBody({ panel, result }) {
  const { value, name, count } = single(result);
  const sev = severityOf(panel, value);
  return html`<div class=${'stat' + (sev ? ' sev-text-' + sev : '')}>
    <span class="stat-value">${formatValue(value, panel.unit)}</span>
    ${sev && html`<span class="stat-sev">${sev}</span>`}
    <span class="muted stat-of">${count > 1 ? `${name} (1 of ${count} series)` : name}</span>
  </div>`;
}

// A half circle from min to max, filled to the value.
function GaugeBody({ panel, result }) {
  const { value, name } = single(result);
  const min = panel.min ?? 0;
  const max = panel.max ?? 100;
  const fraction = value === null ? 0 : Math.max(0, Math.min(1, (value - min) / (max - min)));
  const sev = severityOf(panel, value);
  const r = 40;
  const length = Math.PI * r;
  return html`<div class="gauge">
    <svg viewBox="0 0 100 56" role="img" aria-label=${`${formatValue(value, panel.unit)} on a scale from ${formatValue(min, panel.unit)} to ${formatValue(max, panel.unit)}`}>
      <path class="gauge-track" d="M10 50 A40 40 0 0 1 90 50" fill="none" stroke-width="10" />
      <path
        class=${'gauge-value' + (sev ? ' sev-stroke-' + sev : '')}
        d="M10 50 A40 40 0 0 1 90 50"
        fill="none"
        stroke-width="10"
        stroke-dasharray=${`${fraction * length} ${length}`}
      />
    </svg>
    <span class=${'gauge-text' + (sev ? ' sev-text-' + sev : '')}>${formatValue(value, panel.unit)}</span>
    <span class="muted gauge-range">${formatValue(min, panel.unit)} – ${formatValue(max, panel.unit)}${name ? ` · ${name}` : ''}</span>
  </div>`;
}

function ranked(result) {
  return result.series
    .map((s) => ({ name: seriesName(s), value: latest(s) }))
    .filter((r) => r.value !== null)
    .sort((a, b) => b.value - a.value);
}

function TableBody({ panel, result }) {
  const rows = ranked(result).slice(0, 100);
  return html`<table class="list compact">
    <caption class="sr-only">${panel.title || 'Latest values'}</caption>
    <thead><tr><th scope="col">Series</th><th scope="col" class="num">Latest</th></tr></thead>
    <tbody>
      ${rows.map((r) => html`<tr><td>${r.name}</td><td class="num">${formatValue(r.value, panel.unit)}</td></tr>`)}
    </tbody>
  </table>`;
}

function TopnBody({ panel, result }) {
  const rows = ranked(result).slice(0, panel.query.topk || 10);
  const top = rows.length ? Math.max(...rows.map((r) => Math.abs(r.value)), 1e-12) : 1;
  return html`<ol class="topn">
    ${rows.map(
      (r) => html`<li>
        <span class="topn-name">${r.name}</span>
        <span class="topn-value">${formatValue(r.value, panel.unit)}</span>
        <svg class="topn-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
          <rect width=${Math.max(0.5, (Math.abs(r.value) / top) * 100)} height="6" />
        </svg>
      </li>`,
    )}
  </ol>`;
}

const statusOrder = { down: 0, unreachable: 1, unknown: 2, maintenance: 3, up: 4 };

function StatusBody({ panel, result }) {
  const devices = [...result.devices].sort(
    (a, b) => (statusOrder[a.status] ?? 5) - (statusOrder[b.status] ?? 5) || a.name.localeCompare(b.name),
  );
  const counts = {};
  for (const d of devices) counts[d.status] = (counts[d.status] || 0) + 1;
  return html`<div class="status-grid-wrap">
    <p class="counts">
      ${Object.entries(counts).map(([s, n]) => html`<span class=${'badge status-' + s}>${n} ${s}</span> `)}
      ${result.total > devices.length && html`<span class="muted">(first ${devices.length} of ${result.total})</span>`}
    </p>
    <ul class="status-grid">
      ${devices.map(
        (d) => html`<li>
          <a href=${`/devices/${d.id}`} class=${'cell status-' + d.status} title=${`${d.name}: ${d.status}`}>
            <span class="sr-only">${d.name}: ${d.status}</span>
            <span aria-hidden="true">${d.name}</span>
          </a>
        </li>`,
      )}
    </ul>
  </div>`;
}

const bodies = {
  timeseries: TimeseriesBody,
  stat: StatBody,
  gauge: GaugeBody,
  table: TableBody,
  topn: TopnBody,
  status: StatusBody,
};

export const kindNames = {
  timeseries: 'Time series',
  stat: 'Stat',
  gauge: 'Gauge',
  table: 'Table',
  topn: 'Top N',
  status: 'Device status grid',
};

// The body of `panel` for `result` ({series} | {devices, total} | {error} | undefined: loading).
export function PanelBody({ panel, result }) {
  if (!result) return html`<p class="muted panel-state">Loading…</p>`;
  if (result.error) return html`<p class="error panel-state" role="alert">${sentence(result.error)}</p>`;
  const empty = result.devices ? result.devices.length === 0 : result.series.length === 0;
  if (empty) {
    return html`<p class="empty panel-state">
      ${result.devices ? 'No devices match.' : 'No data in this range.'}
    </p>`;
  }
  const Body = bodies[panel.kind];
  return html`<${Body} panel=${panel} result=${result} />`;
}
