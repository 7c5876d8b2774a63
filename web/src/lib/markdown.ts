// A small, safe Markdown subset. It produces a tree, never HTML: the view turns the tree into
// DOM nodes with text content, so nothing in a message can become markup.
//
// Blocks: paragraphs, fenced ``` code blocks (with a language), > block quotes (nested blocks),
// - / * / + bullet lists and 1. numbered lists (one level; a line that follows an item without
// a marker continues it).
// Inline: **bold**, _italic_ / *italic*, ~~strikethrough~~, `code`, ||spoiler||, @mentions,
// [text](http(s)://…) and bare http(s) URLs. A backslash escapes any of the markup characters.

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'br' }
  | { t: 'b'; c: Inline[] }
  | { t: 'i'; c: Inline[] }
  | { t: 's'; c: Inline[] }
  | { t: 'spoiler'; c: Inline[] }
  | { t: 'code'; v: string }
  | { t: 'mention'; v: string }
  | { t: 'link'; href: string; c: Inline[] };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'pre'; v: string; lang: string }
  | { t: 'quote'; c: Block[] }
  | { t: 'ul'; items: Inline[][] }
  | { t: 'ol'; start: number; items: Inline[][] };

export function safeHref(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

const FENCE_OPEN = /^\s*```\s*([\w+-]*)\s*$/;
const FENCE_CLOSE = /^\s*```\s*$/;
const QUOTE = /^\s{0,3}> ?(.*)$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBER = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;

/** Block quotes nest; past this depth their markers are text (bounded recursion). */
const MAX_QUOTE_DEPTH = 4;

export function parse(src: string): Block[] {
  return blocks(src.replace(/\r\n?/g, '\n').split('\n'), 0);
}

function blocks(lines: string[], depth: number): Block[] {
  const out: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ t: 'p', c: inline(para.join('\n')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE_OPEN.exec(line);
    if (fence) {
      let end = -1;
      for (let j = i + 1; j < lines.length; j++)
        if (FENCE_CLOSE.test(lines[j])) {
          end = j;
          break;
        }
      if (end !== -1) {
        flush();
        out.push({ t: 'pre', v: lines.slice(i + 1, end).join('\n'), lang: fence[1] });
        i = end;
        continue;
      }
    }
    if (depth < MAX_QUOTE_DEPTH && QUOTE.test(line)) {
      flush();
      const inner: string[] = [];
      while (i < lines.length) {
        const q = QUOTE.exec(lines[i]);
        if (!q) break;
        inner.push(q[1]);
        i++;
      }
      i--;
      out.push({ t: 'quote', c: blocks(inner, depth + 1) });
      continue;
    }
    const bullet = BULLET.exec(line);
    const number = bullet ? null : NUMBER.exec(line);
    if (bullet || number) {
      flush();
      const ordered = !!number;
      const items: string[][] = [];
      while (i < lines.length) {
        const l = lines[i];
        const b = ordered ? null : BULLET.exec(l);
        const n = ordered ? NUMBER.exec(l) : null;
        if (b) items.push([b[1]]);
        else if (n) items.push([n[2]]);
        else if (l.trim() !== '' && !FENCE_OPEN.test(l) && !QUOTE.test(l) && !BULLET.test(l) && !NUMBER.test(l))
          items[items.length - 1].push(l.trim());
        else break;
        i++;
      }
      i--;
      const parsed = items.map((it) => inline(it.join('\n')));
      out.push(ordered ? { t: 'ol', start: Number(number![1]), items: parsed } : { t: 'ul', items: parsed });
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line);
  }
  flush();
  return out;
}

const URL_RE = /https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/y;
const MENTION_RE = /@([A-Za-z0-9_.]*[A-Za-z0-9_])/y;
const ESCAPABLE = '\\`*_[]()~|@>-+';

/** Pairs delimited by the same two characters: **bold**, ~~strike~~, ||spoiler||. */
const PAIRS: Record<string, 'b' | 's' | 'spoiler'> = { '*': 'b', '~': 's', '|': 'spoiler' };

export function inline(s: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const pushText = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length && ESCAPABLE.includes(s[i + 1])) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      pushText();
      out.push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '`') {
      const end = s.indexOf('`', i + 1);
      if (end > i + 1) {
        pushText();
        out.push({ t: 'code', v: s.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    const pair = PAIRS[ch];
    if (pair && s[i + 1] === ch) {
      const end = s.indexOf(ch + ch, i + 2);
      if (end > i + 2) {
        pushText();
        out.push({ t: pair, c: inline(s.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((ch === '_' || ch === '*') && s[i + 1] !== ch && s[i + 1] !== ' ' && (i === 0 || !/\w/.test(s[i - 1]))) {
      let end = s.indexOf(ch, i + 1);
      while (end !== -1 && /\w/.test(s[end + 1] ?? '')) end = s.indexOf(ch, end + 1);
      if (end > i + 1 && s[end - 1] !== ' ') {
        pushText();
        out.push({ t: 'i', c: inline(s.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      const m = /^\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/.exec(s.slice(i, i + 2100));
      const href = m && safeHref(m[2]);
      if (m && href) {
        pushText();
        out.push({ t: 'link', href, c: inline(m[1]) });
        i += m[0].length;
        continue;
      }
    }
    if (ch === 'h' && (i === 0 || !/\w/.test(s[i - 1]))) {
      URL_RE.lastIndex = i;
      const m = URL_RE.exec(s);
      const href = m && safeHref(m[0]);
      if (m && href) {
        pushText();
        out.push({ t: 'link', href, c: [{ t: 'text', v: m[0] }] });
        i += m[0].length;
        continue;
      }
    }
    // @username, as the server reads mentions: not after a letter, digit, _ or . (e-mail).
    if (ch === '@' && (i === 0 || !/[\w.]/.test(s[i - 1]))) {
      MENTION_RE.lastIndex = i;
      const m = MENTION_RE.exec(s);
      if (m) {
        pushText();
        out.push({ t: 'mention', v: m[1] });
        i += m[0].length;
        continue;
      }
    }
    text += ch;
    i++;
  }
  pushText();
  return out;
}

/** Plain text of a message for previews, labels and notifications. */
export function plain(src: string): string {
  return src
    .replace(/```[\s\S]*?```/g, '[code]')
    .replace(/\|\|[\s\S]*?\|\|/g, '[spoiler]')
    .replace(/^\s{0,3}(?:>\s?)+/gm, '')
    .replace(/^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+/gm, '')
    .replace(/[*_`~]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
