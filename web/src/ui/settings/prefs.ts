// Local preferences (this device only).
import type { Client } from '../../lib/client';
import type { NotifyPref } from '../../lib/notify';

export type Theme = 'system' | 'light' | 'dark';
export interface Prefs { theme: Theme; language: string; notifications: NotifyPref }
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

/**
 * The one place the preferred language (for translation) is persisted. For now it is stored
 * on this device; when the server accepts `preferred_language` in `PATCH /users/me`, send it
 * there instead (`client.api.patch('/users/me', { preferred_language })`) and read it from `me`.
 */
export async function persistPreferredLanguage(_client: Client, language: string): Promise<void> {
  savePrefs({ ...loadPrefs(), language });
}

/** Languages offered for translation (BCP 47); names are shown in the user's own locale. */
export const LANGUAGES = ['ar', 'de', 'en', 'es', 'fr', 'hi', 'id', 'it', 'ja', 'ko', 'nl', 'pl', 'pt', 'ru', 'sv', 'tr', 'uk', 'vi', 'zh'];
