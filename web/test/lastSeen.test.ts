import { describe, expect, it } from 'vitest';
import { lastSeenText } from '../src/lib/lastSeen';

// Local times (the text is in the reader's time zone).
const now = new Date(2026, 11, 8, 15, 30);
const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo, d, h, mi).toISOString();

describe('lastSeenText', () => {
  it('minutes within the hour', () => {
    expect(lastSeenText(at(2026, 11, 8, 15, 29), now, 'en-GB')).toBe('last seen 1 min ago');
    expect(lastSeenText(at(2026, 11, 8, 15, 25), now, 'en-GB')).toBe('last seen 5 min ago');
    expect(lastSeenText(new Date(now.getTime() - 20_000).toISOString(), now, 'en-GB')).toBe('last seen just now');
  });
  it('the time today and yesterday', () => {
    expect(lastSeenText(at(2026, 11, 8, 14, 2), now, 'en-GB')).toBe('last seen today at 14:02');
    expect(lastSeenText(at(2026, 11, 7, 9, 15), now, 'en-GB')).toBe('last seen yesterday at 09:15');
  });
  it('the day before that, with the year when not this one', () => {
    expect(lastSeenText(at(2026, 11, 3, 10, 0), now, 'en-GB')).toBe('last seen on 3 Dec');
    expect(lastSeenText(at(2025, 11, 3, 10, 0), now, 'en-GB')).toBe('last seen on 3 Dec 2025');
  });
  it('yesterday across a month boundary', () => {
    expect(lastSeenText(at(2026, 10, 30, 23, 0), new Date(2026, 11, 1, 8, 0), 'en-GB')).toBe(
      'last seen yesterday at 23:00',
    );
  });
  it('a bad time says nothing', () => {
    expect(lastSeenText('nope', now)).toBe('');
  });
});
