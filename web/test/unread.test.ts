import { describe, expect, it } from 'vitest';
import { unreadTitle } from '../src/ui/unreadIndicators';

describe('unread title', () => {
  it('puts the count first, caps it, and leaves the title alone at zero', () => {
    expect(unreadTitle(0)).toBe('JustUs');
    expect(unreadTitle(3)).toBe('(3) JustUs');
    expect(unreadTitle(150)).toBe('(99+) JustUs');
  });
});
