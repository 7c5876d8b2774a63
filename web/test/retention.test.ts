import { describe, expect, it } from 'vitest';
import { effectiveRetention, retentionLabel } from '../src/lib/retention';

describe('retention', () => {
  it('keeps the shorter of the room and the server, null for forever', () => {
    expect(effectiveRetention(null, null)).toBe(null);
    expect(effectiveRetention(undefined, 0)).toBe(null);
    expect(effectiveRetention(7, null)).toBe(7);
    expect(effectiveRetention(null, 30)).toBe(30);
    expect(effectiveRetention(7, 30)).toBe(7);
    expect(effectiveRetention(365, 30)).toBe(30);
  });
  it('labels days', () => {
    expect(retentionLabel(1)).toBe('1 day');
    expect(retentionLabel(30)).toBe('30 days');
    expect(retentionLabel(365)).toBe('1 year');
    expect(retentionLabel(730)).toBe('2 years');
  });
});
