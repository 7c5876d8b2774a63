import { describe, expect, it } from 'vitest';
import { AVATAR_COLOURS, avatarColour, initials } from '../src/lib/avatar';

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe('generated avatars', () => {
  it('initials', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('ada king lovelace')).toBe('AL');
    expect(initials('bob')).toBe('B');
    expect(initials('jean-luc')).toBe('JL');
    expect(initials('  ')).toBe('?');
    expect(initials('Émile Zola')).toBe('ÉZ');
  });
  it('the colour is stable per user and spread over the palette', () => {
    const ids = Array.from({ length: 240 }, (_, i) => `0190a0b0-0000-7000-8000-${String(i).padStart(12, '0')}`);
    expect(avatarColour(ids[0])).toBe(avatarColour(ids[0]));
    const used = new Set(ids.map(avatarColour));
    expect(used.size).toBe(AVATAR_COLOURS.length);
  });
  it('white initials are readable on every colour (4.5:1)', () => {
    for (const c of AVATAR_COLOURS) expect(1.05 / (luminance(c) + 0.05)).toBeGreaterThanOrEqual(4.5);
  });
});
