// Local preferences (this device only).
export type Theme = 'system' | 'light' | 'dark';
export interface Prefs { theme: Theme; language: string; notifications: 'all' | 'mentions' | 'none' }
const KEY = 'justus.prefs';
export function loadPrefs(): Prefs {
  try {
    return { theme: 'system', language: navigator.language || 'en', notifications: 'all', ...JSON.parse(localStorage.getItem(KEY) || '{}') };
  } catch {
    return { theme: 'system', language: 'en', notifications: 'all' };
  }
}
export function savePrefs(p: Prefs): void {
  localStorage.setItem(KEY, JSON.stringify(p));
  applyTheme(p.theme);
}
export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
}
