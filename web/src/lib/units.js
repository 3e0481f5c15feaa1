// Values with their units, as operators read them: traffic in bit/s with SI prefixes (1.2 Gbit/s),
// sizes in IEC bytes (3.1 GiB), percentages, milliseconds, temperatures. `unit` is a dashboard
// panel's unit (docs/dashboards.md).
const si = ['', 'k', 'M', 'G', 'T', 'P'];
const iec = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];

function scaled(v, base, prefixes) {
  let i = 0;
  let x = Math.abs(v);
  while (x >= base && i < prefixes.length - 1) {
    x /= base;
    i += 1;
  }
  return { n: Math.sign(v) * x, prefix: prefixes[i] };
}

function digits(n) {
  const a = Math.abs(n);
  if (Number.isInteger(n) && a < 1e6) return String(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 0.01) return n.toFixed(2);
  return String(Number(n.toPrecision(2)));
}

export const unitNames = {
  '': 'None',
  short: 'Number (k, M, G)',
  percent: 'Percent (%)',
  ms: 'Milliseconds',
  s: 'Seconds',
  bps: 'Bits per second',
  Bps: 'Bytes per second',
  bytes: 'Bytes',
  pps: 'Packets per second',
  dBm: 'dBm (optical power)',
  celsius: 'Degrees Celsius',
};

export function formatValue(v, unit = '') {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '+∞' : '−∞';
  switch (unit) {
    case 'bps': {
      const { n, prefix } = scaled(v, 1000, si);
      return `${digits(n)} ${prefix}bit/s`;
    }
    case 'Bps': {
      const { n, prefix } = scaled(v, 1000, si);
      return `${digits(n)} ${prefix}B/s`;
    }
    case 'pps': {
      const { n, prefix } = scaled(v, 1000, si);
      return `${digits(n)} ${prefix}pps`;
    }
    case 'bytes': {
      const { n, prefix } = scaled(v, 1024, iec);
      return `${digits(n)} ${prefix}B`;
    }
    case 'short': {
      const { n, prefix } = scaled(v, 1000, si);
      return `${digits(n)}${prefix}`;
    }
    case 'percent':
      return `${digits(v)} %`;
    case 'ms':
      return `${digits(v)} ms`;
    case 's':
      return `${digits(v)} s`;
    case 'dBm':
      return `${digits(v)} dBm`;
    case 'celsius':
      return `${digits(v)} °C`;
    default:
      return digits(v);
  }
}
