import { describe, expect, it } from 'vitest';
import { inline, parse, safeHref } from '../src/lib/markdown';

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
});
