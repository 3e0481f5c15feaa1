// A time-series chart (uPlot): the points of one or more series from /api/v1/query_range, in
// the user's time zone, sized to its box and redrawn when that changes. Colours come from the
// theme's custom properties, so the chart follows light, dark and high contrast.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../lib/html.js';

// The series colours (custom properties each theme sets), in the order charts use them.
export const palette = ['--series-1', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6', '--series-7', '--series-8'];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

// `data`: [xs (Unix s), ys1, ys2, ...]; `series`: [{label, color (a CSS custom property),
// unit, dots (marks only), dash (a dashed line)}]; `range`: [from, to] in Unix s, the time the chart spans (else the data's). `label`
// names the chart for screen readers; `summary` is what they read instead of the drawing.
// `format` (value -> text, e.g. with units.js) labels the axis and the legend; `height`
// 'fill' sizes the chart to its box (a dashboard panel).
export function Chart({ label, summary, data, series, range, height = 220, format }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const fill = height === 'fill';
    // Filling a panel: the box is sized by the panel (CSS), the legend takes what it needs.
    const legendHeight = () => {
      const legend = plot.current && plot.current.root.querySelector('.u-legend');
      return legend ? legend.offsetHeight + 4 : 34;
    };
    const tall = () => (fill ? Math.max(60, el.clientHeight - legendHeight()) : height);
    const axisColor = cssVar('--muted');
    const grid = { stroke: cssVar('--border'), width: 1 };
    const opts = {
      width: Math.max(200, el.clientWidth),
      height: tall(),
      legend: { show: true },
      scales: range ? { x: { time: true, range: () => range } } : { x: { time: true } },
      cursor: { drag: { x: true, y: false } },
      axes: [
        { stroke: axisColor, grid, ticks: grid },
        {
          stroke: axisColor,
          grid,
          ticks: grid,
          values: (u, vals) =>
            vals.map((v) => (format ? format(v) : `${v}${series[0].unit ? ' ' + series[0].unit : ''}`)),
          size: format ? 96 : 70,
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color),
          width: s.dots ? 0 : 2,
          // `dots`: marks at its points, no line (a backtest's would-be firings).
          ...(s.dots ? { paths: () => null, points: { show: true, size: 11, fill: cssVar(s.color) } } : {}),
          ...(s.dash ? { dash: [6, 4], spanGaps: true } : {}),
          value: (u, v) =>
            v === null || v === undefined ? '—' : format ? format(v) : `${v.toFixed(2)} ${s.unit || ''}`,
        })),
      ],
    };
    // The first draw's time from here, as a performance measure (bench/ui.sh reads it).
    const t0 = performance.now();
    let measured = false;
    opts.hooks = {
      draw: [
        () => {
          if (measured) return;
          measured = true;
          performance.measure('netpulse:chart', { start: t0, detail: { points: data[0].length * (data.length - 1) } });
        },
      ],
    };
    plot.current = new uPlot(opts, data, el);
    if (fill) plot.current.setSize({ width: Math.max(200, el.clientWidth), height: tall() });
    const resize = new ResizeObserver(() => {
      if (plot.current) plot.current.setSize({ width: Math.max(200, el.clientWidth), height: tall() });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current.destroy();
      plot.current = null;
    };
  }, [data, series.map((s) => s.label).join(), height]);
  return html`<figure class=${height === 'fill' ? 'chart fill' : 'chart'} aria-label=${label}>
    <div ref=${box} class="chart-box" role="img" aria-label=${summary}></div>
  </figure>`;
}

// Series of /api/v1/query_range (`[{points: [[t, v], ...]}]`) joined on their timestamps into
// uPlot's columns.
export function toColumns(seriesList) {
  const times = new Set();
  for (const s of seriesList) for (const [t] of s.points) times.add(t);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const columns = [xs];
  for (const s of seriesList) {
    const ys = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) ys[index.get(t)] = typeof v === 'number' ? v : null;
    columns.push(ys);
  }
  return columns;
}
