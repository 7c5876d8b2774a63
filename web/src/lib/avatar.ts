// The generated avatar when someone has no picture: their initials on a colour picked from their
// user id, so the same person has the same colour on every screen and device. Every colour of the
// palette holds white text at WCAG AA (4.5:1; checked in test/avatar.test.ts).

export const AVATAR_COLOURS = [
  '#c92a2a',
  '#a61e4d',
  '#862e9c',
  '#5f3dc4',
  '#364fc7',
  '#1864ab',
  '#0b7285',
  '#087f5b',
  '#2f7a3a',
  '#8a5a00',
  '#c2410c',
  '#495057',
] as const;

/** FNV-1a over the id: stable, spread, cheap. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function avatarColour(userId: string): string {
  return AVATAR_COLOURS[hash(userId) % AVATAR_COLOURS.length];
}

/** One or two letters: "Ada Lovelace" → "AL", "bob" → "B", "  " → "?". */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  const out = letters.map((w) => [...w][0] ?? '').join('');
  return out ? out.toLocaleUpperCase() : '?';
}
