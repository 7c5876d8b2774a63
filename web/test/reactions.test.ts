import { describe, expect, it } from 'vitest';
import { reactorsLine } from '../src/lib/reactions';

const names: Record<string, string> = { a: 'Alice', b: 'Bob', c: 'Carol', me: 'Me' };
const name = (id: string) => names[id] ?? 'Someone';

describe('reactorsLine', () => {
  it('names one, two and three people', () => {
    expect(reactorsLine({ emoji: '👍', count: 1, users: ['a'] }, name)).toBe('Alice reacted with 👍');
    expect(reactorsLine({ emoji: '👍', count: 2, users: ['a', 'b'] }, name)).toBe('Alice and Bob reacted with 👍');
    expect(reactorsLine({ emoji: '🎉', count: 3, users: ['a', 'b', 'c'] }, name)).toBe(
      'Alice, Bob and Carol reacted with 🎉',
    );
  });
  it('puts me first as You', () => {
    expect(reactorsLine({ emoji: '👍', count: 2, users: ['a', 'me'] }, name, 'me')).toBe(
      'You and Alice reacted with 👍',
    );
  });
  it('counts the people the server did not list', () => {
    expect(reactorsLine({ emoji: '👍', count: 23, users: ['a', 'b'] }, name)).toBe(
      'Alice, Bob and 21 others reacted with 👍',
    );
    expect(reactorsLine({ emoji: '👍', count: 3, users: ['a', 'b'] }, name)).toBe(
      'Alice, Bob and 1 other reacted with 👍',
    );
    expect(reactorsLine({ emoji: '👍', count: 4, users: [] }, name)).toBe('4 people reacted with 👍');
  });
  it('shows at most max names', () => {
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    expect(reactorsLine({ emoji: '👍', count: 20, users }, name, null, 3)).toBe(
      'Someone, Someone, Someone and 17 others reacted with 👍',
    );
  });
});
