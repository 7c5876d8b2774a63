import { describe, expect, it } from 'vitest';
import { anchorScrollTop, captureAnchor, computeOffsets, rowAt, windowRange } from '../src/lib/virtual';

const keysFrom = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);
// Deterministic variable heights: 40..160 px.
const measured = (keys: string[]) => new Map(keys.map((k, i) => [k, 40 + ((i * 37) % 121)]));

describe('virtual list windowing', () => {
  const N = 10_000,
    VIEW = 600,
    EST = 64;

  it('materialises only O(visible) rows of 10,000, wherever the viewport is', () => {
    const keys = keysFrom(0, N);
    for (const heights of [new Map<string, number>(), measured(keys)]) {
      const o = computeOffsets(keys, heights, EST);
      const total = o[N];
      for (const top of [0, 1234, total / 2, total - VIEW, total]) {
        const [s, e] = windowRange(o, top, VIEW);
        // Rows that intersect the viewport: at most VIEW/minHeight + 1, plus 8 overscan per side.
        expect(e - s).toBeGreaterThan(0);
        expect(e - s).toBeLessThanOrEqual(Math.ceil(VIEW / 40) + 1 + 2 * 8);
        // The window really covers the viewport.
        expect(o[s]).toBeLessThanOrEqual(Math.min(top, o[N - 1]));
        expect(o[e]).toBeGreaterThanOrEqual(Math.min(top + VIEW, total));
      }
    }
  });

  it('finds rows by offset with the binary search', () => {
    const o = computeOffsets(keysFrom(0, N), new Map(), EST);
    expect(rowAt(o, 0)).toBe(0);
    expect(rowAt(o, 63.9)).toBe(0);
    expect(rowAt(o, 64)).toBe(1);
    expect(rowAt(o, 5000 * 64 + 10)).toBe(5000);
    expect(rowAt(o, 1e12)).toBe(N - 1);
    expect(windowRange(computeOffsets([], new Map(), EST), 0, VIEW)).toEqual([0, 0]);
  });

  it('prepending an older page keeps the anchor row where the user is reading', () => {
    let keys = keysFrom(5_000, N);
    const heights = measured(keysFrom(0, N));
    let o = computeOffsets(keys, heights, EST);
    const scrollTop = o[37] + 13; // 13 px into row m5037
    const anchor = captureAnchor(keys, o, scrollTop)!;
    expect(anchor).toEqual({ key: 'm5037', delta: 13 });
    const before = keys.slice(...windowRange(o, scrollTop, VIEW));
    expect(before.length).toBeLessThanOrEqual(40);

    // Load an older page of 5,000 rows above (with estimated heights for the new ones).
    const older = keysFrom(0, 5_000);
    for (const k of older) heights.delete(k);
    keys = [...older, ...keys];
    o = computeOffsets(keys, heights, EST);
    const next = anchorScrollTop(anchor, new Map(keys.map((k, i) => [k, i])), o)!;
    expect(next).toBe(scrollTop + 5_000 * EST);
    expect(captureAnchor(keys, o, next)).toEqual(anchor);
    // Same rows on screen, and still only a window of them.
    const [s, e] = windowRange(o, next, VIEW);
    expect(keys.slice(s, e)).toEqual(before);

    // Re-measuring the new rows above also keeps the anchor.
    for (const k of older) heights.set(k, 100);
    o = computeOffsets(keys, heights, EST);
    const again = anchorScrollTop(anchor, new Map(keys.map((k, i) => [k, i])), o)!;
    expect(again).toBe(scrollTop + 5_000 * 100);
    expect(keys.slice(...windowRange(o, again, VIEW))).toEqual(before);
  });

  it('a vanished anchor gives no scroll target', () => {
    expect(anchorScrollTop({ key: 'gone', delta: 0 }, new Map(), [0])).toBeUndefined();
    expect(captureAnchor([], [0], 0)).toBeNull();
  });
});
