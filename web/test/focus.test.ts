import { describe, expect, it } from 'vitest';
import { trapTarget } from '../src/lib/focus';

describe('trapTarget (Tab focus trap)', () => {
  it('wraps from the last element to the first, and from the first back to the last', () => {
    expect(trapTarget(3, 2, false)).toBe(0);
    expect(trapTarget(3, 0, true)).toBe(2);
  });
  it('lets the browser move focus inside the dialog', () => {
    expect(trapTarget(3, 0, false)).toBeNull();
    expect(trapTarget(3, 1, false)).toBeNull();
    expect(trapTarget(3, 2, true)).toBeNull();
  });
  it('pulls focus back in when it is outside', () => {
    expect(trapTarget(3, -1, false)).toBe(0);
    expect(trapTarget(3, -1, true)).toBe(2);
  });
  it('a single element keeps focus; nothing focusable lets the caller hold it', () => {
    expect(trapTarget(1, 0, false)).toBe(0);
    expect(trapTarget(1, 0, true)).toBe(0);
    expect(trapTarget(0, -1, false)).toBeNull();
  });
});
