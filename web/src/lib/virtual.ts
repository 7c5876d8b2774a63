// Windowing math for the virtualised message list (plain TS, no DOM): row offsets from measured
// or estimated heights, the index range to materialise for a scroll position, and the anchor
// that keeps what the user is reading in place when rows are added above or re-measured.

/** Cumulative offsets: o[i] is the top of row i, o[n] the total height. */
export function computeOffsets(
  keys: readonly string[],
  heights: ReadonlyMap<string, number>,
  estimate: number,
): number[] {
  const o = new Array<number>(keys.length + 1);
  o[0] = 0;
  for (let i = 0; i < keys.length; i++) o[i + 1] = o[i] + (heights.get(keys[i]) ?? estimate);
  return o;
}

/** The index of the row containing y (clamped to [0, n-1]); binary search over offsets. */
export function rowAt(offsets: readonly number[], y: number): number {
  let lo = 0,
    hi = offsets.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(0, lo);
}

/** The half-open range [start, end) of rows to render: the viewport plus `overscan` rows each side. */
export function windowRange(
  offsets: readonly number[],
  scrollTop: number,
  viewport: number,
  overscan = 8,
): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  const start = Math.max(0, rowAt(offsets, scrollTop) - overscan);
  const end = Math.min(n, rowAt(offsets, scrollTop + viewport) + overscan + 1);
  return [start, end];
}

export interface Anchor {
  key: string;
  delta: number;
}

/** Remember the first visible row and how far into it the viewport starts. */
export function captureAnchor(keys: readonly string[], offsets: readonly number[], scrollTop: number): Anchor | null {
  if (!keys.length) return null;
  const i = rowAt(offsets, scrollTop);
  return { key: keys[i], delta: scrollTop - offsets[i] };
}

/** The scrollTop that puts the anchor row back where it was, or undefined if it is gone. */
export function anchorScrollTop(
  anchor: Anchor,
  indexOf: ReadonlyMap<string, number>,
  offsets: readonly number[],
): number | undefined {
  const i = indexOf.get(anchor.key);
  return i === undefined ? undefined : offsets[i] + anchor.delta;
}
