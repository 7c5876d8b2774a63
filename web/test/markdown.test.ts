import { describe, expect, it } from 'vitest';
import { inline, parse, plain, safeHref } from '../src/lib/markdown';

describe('markdown', () => {
  it('parses the subset', () => {
    expect(inline('**bold** and _it_ and `x<y`')).toEqual([
      { t: 'b', c: [{ t: 'text', v: 'bold' }] },
      { t: 'text', v: ' and ' },
      { t: 'i', c: [{ t: 'text', v: 'it' }] },
      { t: 'text', v: ' and ' },
      { t: 'code', v: 'x<y' },
    ]);
    expect(parse('a\n```js\n<b>\n```\nz')).toEqual([
      { t: 'p', c: [{ t: 'text', v: 'a' }] },
      { t: 'pre', v: '<b>', lang: 'js' },
      { t: 'p', c: [{ t: 'text', v: 'z' }] },
    ]);
  });
  it('only links http(s)', () => {
    expect(inline('[x](javascript:alert(1))').some((n) => n.t === 'link')).toBe(false);
    expect(inline('see https://example.com/a?b=1.')).toEqual([
      { t: 'text', v: 'see ' },
      { t: 'link', href: 'https://example.com/a?b=1', c: [{ t: 'text', v: 'https://example.com/a?b=1' }] },
      { t: 'text', v: '.' },
    ]);
    expect(safeHref('data:text/html,hi')).toBeNull();
  });
  it('keeps snake_case words as text', () => {
    expect(inline('snake_case_word')).toEqual([{ t: 'text', v: 'snake_case_word' }]);
  });

  it('reads @mentions as the server does (not e-mail addresses, no trailing dot)', () => {
    expect(inline('hi @bob.smith. and me@example.com')).toEqual([
      { t: 'text', v: 'hi ' },
      { t: 'mention', v: 'bob.smith' },
      { t: 'text', v: '. and me@example.com' },
    ]);
    expect(inline('`@code`')).toEqual([{ t: 'code', v: '@code' }]);
  });

  it('parses lists, numbered lists (with their start), quotes (nested, bounded) and continuation lines', () => {
    expect(parse('- one\n- **two**\n  still two\n\nafter')).toEqual([
      {
        t: 'ul',
        items: [
          [{ t: 'text', v: 'one' }],
          [{ t: 'b', c: [{ t: 'text', v: 'two' }] }, { t: 'br' }, { t: 'text', v: 'still two' }],
        ],
      },
      { t: 'p', c: [{ t: 'text', v: 'after' }] },
    ]);
    expect(parse('3. c\n4) d')).toEqual([
      { t: 'ol', start: 3, items: [[{ t: 'text', v: 'c' }], [{ t: 'text', v: 'd' }]] },
    ]);
    expect(parse('> said\n> > inner\nreply')).toEqual([
      {
        t: 'quote',
        c: [
          { t: 'p', c: [{ t: 'text', v: 'said' }] },
          { t: 'quote', c: [{ t: 'p', c: [{ t: 'text', v: 'inner' }] }] },
        ],
      },
      { t: 'p', c: [{ t: 'text', v: 'reply' }] },
    ]);
    // Past four levels the markers are text.
    const deep = parse('> > > > > five');
    const level4 = (deep[0] as { c: { c: { c: { c: unknown[] }[] }[] }[] }).c[0].c[0].c[0].c;
    expect(level4).toEqual([{ t: 'p', c: [{ t: 'text', v: '> five' }] }]);
    expect(parse('-not a list\n1.not either')).toEqual([
      { t: 'p', c: [{ t: 'text', v: '-not a list' }, { t: 'br' }, { t: 'text', v: '1.not either' }] },
    ]);
  });
  it('parses strikethrough, spoilers and escapes; code keeps markup as text', () => {
    expect(inline('~~old~~ ||secret|| `~~x~~` \\~~no~~')).toEqual([
      { t: 's', c: [{ t: 'text', v: 'old' }] },
      { t: 'text', v: ' ' },
      { t: 'spoiler', c: [{ t: 'text', v: 'secret' }] },
      { t: 'text', v: ' ' },
      { t: 'code', v: '~~x~~' },
      { t: 'text', v: ' ~~no~~' },
    ]);
  });
  it('plain text for previews hides spoilers and drops markers', () => {
    expect(plain('> quoted\n- item ~~x~~ ||the end||')).toBe('quoted item x [spoiler]');
  });
});
