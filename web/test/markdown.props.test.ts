// Property tests of the Markdown renderer: whatever a message holds, parsing never throws, only
// known node kinds come out, every link is http(s), and no character of the message is lost or
// invented outside of the markup it spells.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Block, type Inline, parse } from '../src/lib/markdown';

const KINDS = new Set(['text', 'br', 'b', 'i', 's', 'spoiler', 'code', 'link', 'mention']);
const BLOCKS = ['p', 'pre', 'quote', 'ul', 'ol'];

function walk(nodes: Inline[], visit: (n: Inline) => void): void {
  for (const n of nodes) {
    visit(n);
    if ('c' in n) walk(n.c, visit);
  }
}

/** Every inline of a tree, in order (quotes and list items included; a code block is its text). */
function inlines(blocks: Block[]): Inline[] {
  return blocks.flatMap((b): Inline[] => {
    switch (b.t) {
      case 'p':
        return b.c;
      case 'pre':
        return [{ t: 'text', v: b.v }];
      case 'quote':
        return inlines(b.c);
      default:
        return b.items.flat();
    }
  });
}

function allBlocks(blocks: Block[]): Block[] {
  return blocks.flatMap((b) => (b.t === 'quote' ? [b, ...allBlocks(b.c)] : [b]));
}

/** The visible characters of a tree (what the view renders as text). */
function visible(blocks: Block[]): string {
  let out = '';
  walk(inlines(blocks), (n) => {
    if (n.t === 'text' || n.t === 'code') out += n.v;
    else if (n.t === 'mention') out += `@${n.v}`;
  });
  return out;
}

// Messages made of the characters the syntax cares about, plus anything else.
const markdownish = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '*',
      '_',
      '~',
      '|',
      '@',
      '-',
      '1. ',
      '\n> ',
      '\n- ',
      '`',
      '[',
      ']',
      '(',
      ')',
      '\n',
      ' ',
      'h',
      't',
      'p',
      's',
      ':',
      '/',
      '.',
      '<',
      '>',
      '&',
      '"',
      "'",
    ),
    fc.constantFrom('https://a.example/x', 'javascript:alert(1)', 'data:text/html,x', '```', '**'),
    fc.string({ unit: 'grapheme', maxLength: 3 }),
  ),
  maxLength: 200,
});

describe('markdown properties', () => {
  it('never throws and yields only known nodes', () => {
    fc.assert(
      fc.property(markdownish, (src) => {
        const blocks = parse(src);
        for (const b of allBlocks(blocks)) expect(BLOCKS).toContain(b.t);
        walk(inlines(blocks), (n) => expect(KINDS.has(n.t)).toBe(true));
      }),
      { numRuns: 2000 },
    );
  });

  it('links only to http(s) URLs', () => {
    fc.assert(
      fc.property(markdownish, (src) => {
        walk(inlines(parse(src)), (n) => {
          if (n.t === 'link') expect(new URL(n.href).protocol).toMatch(/^https?:$/);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps plain text exactly, markup characters aside', () => {
    // Without markup characters, line breaks or a list or quote marker at the start, the message
    // is one paragraph of itself.
    const plain = fc.string({ unit: 'grapheme', maxLength: 200 }).filter(
      // A quote marker needs no space after it (`>x` is a quote, as in CommonMark): a
      // grapheme such as `>` + U+0338 (a decomposed `≯`) at the start is one.
      (s) =>
        !/[*_`[\]\n\r~|@\\]|https?:/.test(s) &&
        !/^\s{0,3}([-*+]|\d{1,9}[.)])(\s|$)/.test(s) &&
        !/^\s{0,3}>/.test(s) &&
        s.trim() !== '',
    );
    fc.assert(
      fc.property(plain, (src) => {
        expect(visible(parse(src))).toBe(src);
      }),
      { numRuns: 1000 },
    );
  });

  it('never invents text: every visible character comes from the message', () => {
    fc.assert(
      fc.property(markdownish, (src) => {
        const seen = visible(parse(src));
        const pool = new Map<string, number>();
        for (const ch of src) pool.set(ch, (pool.get(ch) ?? 0) + 1);
        for (const ch of seen) {
          const left = (pool.get(ch) ?? 0) - 1;
          expect(left, `invented ${JSON.stringify(ch)}`).toBeGreaterThanOrEqual(0);
          pool.set(ch, left);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses adversarial nesting in linear-ish time (no catastrophic backtracking)', () => {
    // Each must finish; vitest's own per-test timeout is the bound, no timing assertion here.
    for (const src of [
      '*'.repeat(20000),
      '_a'.repeat(10000),
      `${'['.repeat(5000)}](${'('.repeat(5000)}`,
      '`'.repeat(20000),
      `https://${'a'.repeat(20000)}`,
      '> '.repeat(20000),
      '- '.repeat(20000),
      '```\n'.repeat(3000),
      '||'.repeat(20000),
      '~~a'.repeat(10000),
    ]) {
      expect(parse(src).length).toBeGreaterThan(0);
    }
  });
});
