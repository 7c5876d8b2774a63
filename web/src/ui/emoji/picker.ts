// The emoji picker and its data, loaded on first use (a dynamic import: none of this is in the
// first load). emoji-picker-element does search, categories, skin tones and "frequently used";
// its data is a file of this build (assets/), so it works offline (the service worker precaches
// it) and nothing is fetched from a CDN. The library's styles are made CSP-safe at build time
// (vite.config.ts: no <style> element, no style attributes; style-src is 'self').
import { Database, Picker } from 'emoji-picker-element';
import type { Emoji, NativeEmoji } from 'emoji-picker-element/shared';
import dataSource from 'emoji-picker-element-data/en/emojibase/data.json?url';
import type { EmojiEntry } from '../../lib/emoji';

export { dataSource };

let db: Database | undefined;
/** One database (IndexedDB, shared with every picker) for shortcode look-ups. */
function database(): Database {
  db ??= new Database({ dataSource, locale: 'en' });
  return db;
}

/** A new picker element (not yet in the document). */
export function createPicker(): Picker {
  const p = new Picker({ dataSource, locale: 'en' });
  p.classList.add('emoji-picker');
  return p;
}

const native = (e: Emoji | null): e is NativeEmoji => !!e && 'unicode' in e;

/** Emoji whose words start with the query (the database's search), for ranking by shortcode. */
export async function searchEmoji(query: string): Promise<EmojiEntry[]> {
  return (await database().getEmojiBySearchQuery(query)).filter(native);
}

/** The emoji with exactly this shortcode, if any. */
export async function emojiByShortcode(code: string): Promise<EmojiEntry | null> {
  const e = await database().getEmojiByShortcode(code);
  return native(e) ? e : null;
}

/** The skin tone last picked in a picker (0: none). */
export async function preferredSkinTone(): Promise<number> {
  return database().getPreferredSkinTone();
}

/** Count a use, so the picker's "Frequently used" row has it. */
export function countUse(unicode: string): void {
  void database()
    .getEmojiByUnicodeOrName(unicode)
    .then((e) => {
      if (native(e)) return database().incrementFavoriteEmojiCount(e.unicode);
    })
    .catch(() => {});
}
