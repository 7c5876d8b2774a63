// `@` autocomplete in the composer (plain TS): find the @word being typed at the caret, rank the
// room's members for it, and put the chosen username in its place.
import type { PublicUser } from './types';

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** What follows it up to the caret. */
  query: string;
}

/** The @word the caret is in, if any: `@` at the start or after a space, no space since. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([\w.]{0,32})$/.exec(before);
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** Members matching the query: username or name prefix first, then containing; at most `limit`. */
export function rankMembers(users: PublicUser[], query: string, limit = 6): PublicUser[] {
  const q = query.toLowerCase();
  const score = (u: PublicUser): number => {
    const un = u.username.toLowerCase();
    const dn = (u.display_name || '').toLowerCase();
    if (!q) return 1;
    if (un.startsWith(q)) return 0;
    if (dn.startsWith(q) || dn.split(/\s+/).some((w) => w.startsWith(q))) return 1;
    if (un.includes(q) || dn.includes(q)) return 2;
    return -1;
  };
  return users
    .map((u) => [u, score(u)] as const)
    .filter(([, s]) => s >= 0)
    .sort((a, b) => a[1] - b[1] || a[0].username.localeCompare(b[0].username))
    .slice(0, limit)
    .map(([u]) => u);
}

/** Replace the @word with `@username ` and give the caret after it. */
export function insertMention(
  text: string,
  q: MentionQuery,
  caret: number,
  username: string,
): { text: string; caret: number } {
  const ins = `@${username} `;
  const after = text.slice(caret).replace(/^[\w.-]*\s?/, '');
  return { text: text.slice(0, q.start) + ins + after, caret: q.start + ins.length };
}
