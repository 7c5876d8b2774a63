// Emoji logic (plain TS, no DOM): the `:shortcode` being typed at the caret, ranking emoji for it,
// putting the chosen one in its place, the recently used list (the quick reactions), and telling
// two spellings of one emoji apart from two emoji (with or without U+FE0F).

/** The quick reactions before anything has been used. */
export const DEFAULT_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];
/** How many recently used emoji are kept (and shown as quick reactions). */
export const RECENT_MAX = 8;

export interface ShortcodeQuery {
  /** Index of the `:`. */
  start: number;
  /** What follows it up to the caret (lower-cased). */
  query: string;
}

/**
 * The `:word` the caret is in, if any: `:` at the start or after a space or an opening bracket,
 * then at least two shortcode characters and no space since. `12:30` and `http://` do not count.
 */
export function shortcodeAt(text: string, caret: number, min = 2): ShortcodeQuery | null {
  const before = text.slice(0, caret);
  const m = /(^|[\s([{])(:)([a-z0-9_+-]{1,40})$/i.exec(before);
  if (!m || m[3].length < min) return null;
  return { start: caret - m[3].length - 1, query: m[3].toLowerCase() };
}

/** A `:shortcode:` closed at the caret (the second colon just typed), if any. */
export function closedShortcodeAt(text: string, caret: number): ShortcodeQuery | null {
  const before = text.slice(0, caret);
  const m = /(^|[\s([{])(:)([a-z0-9_+-]{2,40}):$/i.exec(before);
  if (!m) return null;
  return { start: caret - m[3].length - 2, query: m[3].toLowerCase() };
}

/** Replace text[start, end) with the emoji and a space; the caret goes after them. */
export function insertEmoji(text: string, start: number, end: number, emoji: string): { text: string; caret: number } {
  const after = text.slice(end);
  const ins = after.startsWith(' ') ? emoji : `${emoji} `;
  return { text: text.slice(0, start) + ins + after, caret: start + ins.length };
}

/** What the ranking needs of an emoji (emoji-picker-element's `NativeEmoji` has these). */
export interface EmojiEntry {
  unicode: string;
  shortcodes?: string[];
  annotation?: string;
  /** Its place in the standard order (smaller is more common-first). */
  order?: number;
  skins?: { tone: number; unicode: string }[];
}

export interface ShortcodeMatch {
  unicode: string;
  /** The shortcode shown and matched (`thumbsup`). */
  shortcode: string;
  annotation: string;
}

/**
 * Emoji for a query, best first: a shortcode equal to it, then starting with it, then a word of a
 * shortcode starting with it (`_smile`), then containing it; ties by the shorter shortcode, then
 * the standard order. One line per emoji (its best shortcode); at most `limit`.
 */
export function rankShortcodes(entries: EmojiEntry[], query: string, limit = 8): ShortcodeMatch[] {
  const q = query.toLowerCase();
  const scored: { m: ShortcodeMatch; score: number; len: number; order: number }[] = [];
  for (const e of entries) {
    let best: { code: string; score: number } | null = null;
    for (const code of e.shortcodes ?? []) {
      const c = code.toLowerCase();
      const score =
        c === q ? 0 : c.startsWith(q) ? 1 : c.split(/[_-]/).some((w) => w.startsWith(q)) ? 2 : c.includes(q) ? 3 : -1;
      if (score < 0) continue;
      if (!best || score < best.score || (score === best.score && code.length < best.code.length))
        best = { code, score };
    }
    if (best)
      scored.push({
        m: { unicode: e.unicode, shortcode: best.code, annotation: e.annotation ?? best.code },
        score: best.score,
        len: best.code.length,
        order: e.order ?? Number.MAX_SAFE_INTEGER,
      });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.len - b.len || a.order - b.order)
    .slice(0, limit)
    .map((s) => s.m);
}

/** The emoji in the preferred skin tone (0 = none) when it has that tone. */
export function withSkinTone(e: EmojiEntry, tone: number): string {
  if (!tone) return e.unicode;
  return e.skins?.find((s) => s.tone === tone)?.unicode ?? e.unicode;
}

/** One emoji written two ways (with or without the emoji presentation selector U+FE0F). */
export function sameEmoji(a: string, b: string): boolean {
  return a.replace(/\uFE0F/g, '') === b.replace(/\uFE0F/g, '');
}

/**
 * The spelling to react with: the one a reaction already on the message uses when it is the same
 * emoji (so a picked `👍️` adds to the existing `👍` instead of making a second chip).
 */
export function reactionSpelling(emoji: string, existing: readonly string[]): string {
  return existing.find((e) => sameEmoji(e, emoji)) ?? emoji;
}

/** The list after using `emoji`: it moves to the front, duplicates go, at most `max`. */
export function pushRecent(list: readonly string[], emoji: string, max = RECENT_MAX): string[] {
  return [emoji, ...list.filter((e) => !sameEmoji(e, emoji))].slice(0, max);
}

/** Where the recently used emoji are kept (localStorage in the app, a map in tests). */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const RECENT_KEY = 'justus.recentEmoji';

/** The quick reactions: the recently used emoji, topped up with the defaults to RECENT_MAX. */
export function recentEmoji(store: KeyValue | undefined): string[] {
  let used: string[] = [];
  try {
    const v = JSON.parse(store?.getItem(RECENT_KEY) ?? '[]');
    if (Array.isArray(v)) used = v.filter((e): e is string => typeof e === 'string' && e.length <= 32);
  } catch {
    /* unreadable: the defaults */
  }
  const out = used.slice(0, RECENT_MAX);
  for (const d of DEFAULT_EMOJI) if (out.length < RECENT_MAX && !out.some((e) => sameEmoji(e, d))) out.push(d);
  return out;
}

/** Remember that `emoji` was used (reaction, composer, shortcode). */
export function rememberEmoji(store: KeyValue | undefined, emoji: string): void {
  if (!store) return;
  let used: string[] = [];
  try {
    const v = JSON.parse(store.getItem(RECENT_KEY) ?? '[]');
    if (Array.isArray(v)) used = v.filter((e): e is string => typeof e === 'string');
  } catch {
    /* start over */
  }
  try {
    store.setItem(RECENT_KEY, JSON.stringify(pushRecent(used, emoji)));
  } catch {
    /* storage full or refused: not remembered */
  }
}
