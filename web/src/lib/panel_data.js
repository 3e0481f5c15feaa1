// What a dashboard's panels show, fetched in one request: every query panel's range query goes
// into one POST /api/v1/query_batch (a dashboard of 20 panels is one request of its viewer's rate
// limit, not 20); status panels read the device list.
import { get, post } from './api.js';

export const ranges = {
  '15m': 900,
  '1h': 3600,
  '3h': 10800,
  '6h': 21600,
  '12h': 43200,
  '24h': 86400,
  '2d': 172800,
  '7d': 604800,
  '30d': 2592000,
};

export const rangeNames = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '3h': 'Last 3 hours',
  '6h': 'Last 6 hours',
  '12h': 'Last 12 hours',
  '24h': 'Last 24 hours',
  '2d': 'Last 2 days',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

// The choices of a range query, as the panel editor and the explorer offer them.
const aggNames = ['avg', 'min', 'max', 'sum', 'count', 'last', 'p50', 'p90', 'p95', 'p99'];
export const fnOptions = { '': 'None (gauges)', rate: 'Rate per second (counters)', increase: 'Increase per step (counters)' };
export const aggOptions = { '': 'Average (default)', ...Object.fromEntries(aggNames.map((a) => [a, a])) };
export const groupOptions = { '': 'Keep each series', ...Object.fromEntries(aggNames.filter((a) => a !== 'last').map((a) => [a, a])) };

// The metric name a selector starts with ("ifHCInOctets{...}" -> "ifHCInOctets"), or null.
export function metricOf(selector) {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(selector || '');
  return m ? m[1] : null;
}

// The batch query of one panel over `range` ending `now` (Unix s). A time series gets about 240
// points over the range (steps of a minute at least: what the pollers measure); the other kinds want the latest value, so they read the last 15
// minutes by the minute.
export function panelQuery(panel, range, now) {
  const q = panel.query;
  const seconds = ranges[range] || 21600;
  const chart = panel.kind === 'timeseries';
  const span = chart ? seconds : 900;
  const step = chart ? Math.max(60, Math.ceil(seconds / 240)) : 60;
  const out = { id: panel.id, query: q.selector, start: now - span, end: now, step: `${step}s` };
  if (q.fn) out.fn = q.fn;
  // A stat, gauge, table or top N shows the latest value: the last sample of each step, unless
  // the panel says otherwise.
  if (q.agg) out.agg = q.agg;
  else if (!chart) out.agg = 'last';
  if (q.by && q.by.length) out.by = q.by;
  if (q.group) out.group = q.group;
  if (q.topk) out.topk = q.topk;
  return out;
}

// A series' name in a legend: its labels' values ("core-1 · xe-0/0/1"), else the metric.
export function seriesName(s) {
  const values = Object.entries(s.labels || {})
    .filter(([k]) => k !== '__name__')
    .map(([, v]) => v);
  return values.length ? values.join(' · ') : s.metric || 'value';
}

// The latest value of a series, or null.
export function latest(s) {
  for (let i = s.points.length - 1; i >= 0; i -= 1) {
    const v = s.points[i][1];
    if (typeof v === 'number') return v;
  }
  return null;
}

function scaleSeries(series, scale) {
  if (!scale || scale === 1) return series;
  return series.map((s) => ({
    ...s,
    points: s.points.map(([t, v]) => [t, typeof v === 'number' ? v * scale : v]),
  }));
}

// {panelId: {series} | {error}} for the query panels of `panels`.
export async function fetchPanels(panels, range) {
  const now = Math.floor(Date.now() / 1000);
  const queried = panels.filter((p) => p.kind !== 'status' && p.query);
  const out = {};
  if (queried.length) {
    const queries = queried.map((p) => panelQuery(p, range, now));
    const r = await post('/api/v1/query_batch', { queries });
    r.data.results.forEach((res, i) => {
      const p = queried[i];
      out[p.id] = res.error
        ? { error: res.error.message }
        : { series: scaleSeries(res.series, p.query.scale), range: [queries[i].start, queries[i].end] };
    });
  }
  return out;
}

// The devices a status panel shows (at most 500), by status then name.
export async function fetchDevices(panel) {
  const params = new URLSearchParams({ per_page: '500', sort: 'name' });
  if (panel.devices && panel.devices.group) params.set('group', panel.devices.group);
  if (panel.devices && panel.devices.tag) params.set('tag', panel.devices.tag);
  const r = await get(`/api/v1/devices?${params}`);
  return { devices: r.data, total: r.pagination ? r.pagination.total : r.data.length };
}
