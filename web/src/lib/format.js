// Times in the user's own time zone with the zone shown; counts and sizes with units.
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

export const timeZone = zone;

export function formatTime(value) {
  if (value === null || value === undefined || value === '') return '—';
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : dateTime.format(d);
}

export function formatAgo(value, now = Date.now()) {
  const d = typeof value === 'number' ? value * 1000 : Date.parse(value);
  if (Number.isNaN(d)) return '';
  const s = Math.max(0, Math.round((now - d) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatCount(n) {
  return new Intl.NumberFormat().format(n);
}

// The server's messages start in lower case ("invalid email or password"); shown as a sentence.
export function sentence(message) {
  const s = String(message ?? '');
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
