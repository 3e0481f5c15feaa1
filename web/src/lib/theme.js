// Light, dark and high-contrast themes: the choice is kept in localStorage; "system" follows
// the browser's prefers-color-scheme (and prefers-contrast: more picks high contrast).
export const themes = ['system', 'light', 'dark', 'contrast'];
const media = window.matchMedia('(prefers-color-scheme: dark)');
const contrast = window.matchMedia('(prefers-contrast: more)');

export function storedTheme() {
  const t = localStorage.getItem('netpulse.theme');
  return themes.includes(t) ? t : 'system';
}

export function applyTheme(choice = storedTheme()) {
  let t = choice;
  if (t === 'system') t = contrast.matches ? 'contrast' : media.matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = t;
}

export function setTheme(choice) {
  localStorage.setItem('netpulse.theme', choice);
  applyTheme(choice);
}

media.addEventListener('change', () => applyTheme());
contrast.addEventListener('change', () => applyTheme());
