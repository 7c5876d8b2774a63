import { describe, expect, it } from 'vitest';
import {
  closedShortcodeAt,
  DEFAULT_EMOJI,
  insertEmoji,
  pushRecent,
  RECENT_MAX,
  rankShortcodes,
  reactionSpelling,
  recentEmoji,
  rememberEmoji,
  sameEmoji,
  shortcodeAt,
  withSkinTone,
} from '../src/lib/emoji';

class MapStore {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

describe('shortcodeAt', () => {
  it('finds a :word of two letters or more at the caret', () => {
    expect(shortcodeAt(':sm', 3)).toEqual({ start: 0, query: 'sm' });
    expect(shortcodeAt('hi :Thumbs', 10)).toEqual({ start: 3, query: 'thumbs' });
    expect(shortcodeAt('(:+1', 4)).toEqual({ start: 1, query: '+1' });
  });
  it('ignores one letter, times, URLs and words with a colon inside', () => {
    expect(shortcodeAt(':s', 2)).toBeNull();
    expect(shortcodeAt('at 12:30', 8)).toBeNull();
    expect(shortcodeAt('http://example', 14)).toBeNull();
    expect(shortcodeAt('a:bc', 4)).toBeNull();
    expect(shortcodeAt(':smile here', 11)).toBeNull();
  });
  it('looks only before the caret', () => {
    expect(shortcodeAt(':smile and more', 4)).toEqual({ start: 0, query: 'smi' });
  });
});

describe('closedShortcodeAt', () => {
  it('finds :code: just closed at the caret', () => {
    expect(closedShortcodeAt('yay :tada:', 10)).toEqual({ start: 4, query: 'tada' });
    expect(closedShortcodeAt('yay :tada', 9)).toBeNull();
    expect(closedShortcodeAt('12:30:', 6)).toBeNull();
  });
});

describe('insertEmoji', () => {
  it('replaces the :word with the emoji and a space, caret after', () => {
    expect(insertEmoji('hi :tad', 3, 7, '🎉')).toEqual({ text: 'hi 🎉 ', caret: 6 });
  });
  it('does not double a following space', () => {
    expect(insertEmoji('a :tad b', 2, 6, '🎉')).toEqual({ text: 'a 🎉 b', caret: 4 });
  });
  it('inserts at a caret (empty range) or over a selection', () => {
    expect(insertEmoji('ab', 1, 1, '👍')).toEqual({ text: 'a👍 b', caret: 4 });
    expect(insertEmoji('a XX b', 2, 4, '👍')).toEqual({ text: 'a 👍 b', caret: 4 });
  });
});

describe('rankShortcodes', () => {
  const data = [
    { unicode: '😄', shortcodes: ['smile', 'grinning_face_with_smiling_eyes'], order: 3, annotation: 'smile' },
    { unicode: '😺', shortcodes: ['smiley_cat'], order: 90, annotation: 'grinning cat' },
    { unicode: '🙂', shortcodes: ['slightly_smiling_face', 'slight_smile'], order: 10, annotation: 'slightly smiling' },
    { unicode: '😃', shortcodes: ['smiley'], order: 2, annotation: 'grinning face with big eyes' },
    { unicode: '👍', shortcodes: ['+1', 'thumbsup'], order: 353, annotation: 'thumbs up' },
  ];
  it('puts the exact shortcode first, then prefixes (shorter first), then word prefixes', () => {
    expect(rankShortcodes(data, 'smile').map((m) => m.shortcode)).toEqual([
      'smile',
      'smiley',
      'smiley_cat',
      'slight_smile',
    ]);
  });
  it('shows one line per emoji with its best shortcode', () => {
    const r = rankShortcodes(data, 'smil');
    expect(new Set(r.map((m) => m.unicode)).size).toBe(r.length);
    expect(r.find((m) => m.unicode === '🙂')?.shortcode).toBe('slight_smile');
  });
  it('matches symbols and limits', () => {
    expect(rankShortcodes(data, '+1')[0].unicode).toBe('👍');
    expect(rankShortcodes(data, 'sm', 2)).toHaveLength(2);
    expect(rankShortcodes(data, 'zzz')).toEqual([]);
  });
});

describe('skin tones and spellings', () => {
  it('applies the preferred tone when the emoji has it', () => {
    const e = { unicode: '👍', skins: [{ tone: 2, unicode: '👍🏼' }] };
    expect(withSkinTone(e, 2)).toBe('👍🏼');
    expect(withSkinTone(e, 0)).toBe('👍');
    expect(withSkinTone(e, 4)).toBe('👍');
  });
  it('treats an emoji with and without U+FE0F as one', () => {
    expect(sameEmoji('👍\uFE0F', '👍')).toBe(true);
    expect(sameEmoji('❤️', '❤')).toBe(true);
    expect(sameEmoji('👍', '👎')).toBe(false);
    expect(reactionSpelling('👍\uFE0F', ['🎉', '👍'])).toBe('👍');
    expect(reactionSpelling('😮', ['🎉'])).toBe('😮');
  });
});

describe('recently used', () => {
  it('moves a used emoji to the front without duplicates, bounded', () => {
    expect(pushRecent(['a', 'b', 'c'], 'b')).toEqual(['b', 'a', 'c']);
    expect(pushRecent(['👍'], '👍\uFE0F')).toEqual(['👍\uFE0F']);
    expect(pushRecent(['1', '2', '3'], '4', 3)).toEqual(['4', '1', '2']);
  });
  it('starts with the defaults and keeps what was used first', () => {
    const s = new MapStore();
    expect(recentEmoji(s)).toEqual(DEFAULT_EMOJI);
    rememberEmoji(s, '🦄');
    rememberEmoji(s, '😂');
    const r = recentEmoji(s);
    expect(r.slice(0, 2)).toEqual(['😂', '🦄']);
    expect(r).toHaveLength(RECENT_MAX);
    expect(r.filter((e) => e === '😂')).toHaveLength(1);
  });
  it('survives broken storage', () => {
    const s = new MapStore();
    s.setItem('justus.recentEmoji', '{not json');
    expect(recentEmoji(s)).toEqual(DEFAULT_EMOJI);
    s.setItem('justus.recentEmoji', JSON.stringify([1, '🦄', null]));
    expect(recentEmoji(s)[0]).toBe('🦄');
    expect(recentEmoji(undefined)).toEqual(DEFAULT_EMOJI);
  });
});
