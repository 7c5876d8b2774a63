// A small, safe Markdown subset. It produces a tree, never HTML: the view turns the tree into
// DOM nodes with text content, so nothing in a message can become markup. Supported: **bold**,
// _italic_ / *italic*, `code`, fenced ``` code blocks, [text](http(s)://…), bare http(s) URLs and
// @mentions (read as the server reads them).

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'br' }
  | { t: 'b'; c: Inline[] }
  | { t: 'i'; c: Inline[] }
  | { t: 'code'; v: string }
  | { t: 'mention'; v: string }
  | { t: 'link'; href: string; c: Inline[] };

export type Block = { t: 'p'; c: Inline[] } | { t: 'pre'; v: string; lang: string };

export function safeHref(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export function parse(src: string): Block[] {
  const out: Block[] = [];
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ t: 'p', c: inline(para.join('\n')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```\s*([\w+-]*)\s*$/.exec(lines[i]);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
      if (end !== -1) {
        flush();
        out.push({ t: 'pre', v: lines.slice(i + 1, end).join('\n'), lang: fence[1] });
        i = end;
        continue;
      }
    }
    if (lines[i].trim() === '') flush();
    else para.push(lines[i]);
  }
  flush();
  return out;
}

const URL_RE = /https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/y;
const MENTION_RE = /@([A-Za-z0-9_.]*[A-Za-z0-9_])/y;

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
    if (ch === '\\' && i + 1 < s.length && '\\`*_[]()'.includes(s[i + 1])) {
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
    if (ch === '*' && s[i + 1] === '*') {
      const end = s.indexOf('**', i + 2);
      if (end > i + 2) {
        pushText();
        out.push({ t: 'b', c: inline(s.slice(i + 2, end)) });
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
      const m = /^\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/.exec(s.slice(i));
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

/** Plain text of a message for previews. */
export function plain(src: string): string {
  return src
    .replace(/```[\s\S]*?```/g, '[code]')
    .replace(/[*_`]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
