// Client-side routes on the History API: the server answers every non-API path with
// index.html, so /devices/12 can be loaded, bookmarked and reloaded.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();

export function navigate(path, replace = false) {
  if (path === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', path);
  listeners.forEach((fn) => fn());
}

window.addEventListener('popstate', () => listeners.forEach((fn) => fn()));

// Same-origin links navigate without a reload (a modified click opens a tab as usual).
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented) return;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

export function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const fn = () => setPath(location.pathname);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return path;
}
