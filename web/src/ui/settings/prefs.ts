// Preferences: local ones (this device) and the preferred language (on the server).
import type { Client } from '../../lib/client';
import type { NotifyPref } from '../../lib/notify';
import { aiFor } from '../../lib/ai';

export type Theme = 'system' | 'light' | 'dark';
export interface Prefs {
  theme: Theme;
  language: string;
  notifications: NotifyPref;
}
const KEY = 'justus.prefs';
export function loadPrefs(): Prefs {
  try {
    return {
      theme: 'system',
      language: navigator.language || 'en',
      notifications: 'all',
      ...JSON.parse(localStorage.getItem(KEY) || '{}'),
    };
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
 * The one place the preferred language (for translation) is persisted: on the server
 * (`PATCH /users/me` `preferred_language`, read back from `me.ai`), so every device and the
 * server's translate default agree; a copy stays on this device for offline display.
 */
export async function persistPreferredLanguage(client: Client, language: string): Promise<void> {
  await aiFor(client).setPrefs({ preferred_language: language });
  savePrefs({ ...loadPrefs(), language });
}

/** The preferred language stored on the server (null when none was chosen yet). */
export async function loadPreferredLanguage(client: Client): Promise<string | null> {
  const ai = aiFor(client);
  await ai.load();
  return ai.prefs.preferred_language;
}

/** Languages offered for translation (BCP 47); names are shown in the user's own locale. */
export const LANGUAGES = [
  'ar',
  'de',
  'en',
  'es',
  'fr',
  'hi',
  'id',
  'it',
  'ja',
  'ko',
  'nl',
  'pl',
  'pt',
  'ru',
  'sv',
  'tr',
  'uk',
  'vi',
  'zh',
];
