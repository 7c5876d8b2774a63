// The first run after sign-up is shown once per new account (lib/onboarding.ts).
import { describe, expect, it } from 'vitest';
import { markNewAccount, type MarkStore, takeOnboarding } from '../src/lib/onboarding';

function memory(): MarkStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

describe('onboarding', () => {
  it('is due once after sign-up, then never again', () => {
    const s = memory();
    markNewAccount('u1', s);
    expect(takeOnboarding('u1', s)).toBe(true);
    expect(takeOnboarding('u1', s)).toBe(false);
    expect(s.map.size).toBe(0);
  });

  it('is not due for an account that signed in (not created here) or for another account', () => {
    const s = memory();
    expect(takeOnboarding('u1', s)).toBe(false);
    markNewAccount('u2', s);
    expect(takeOnboarding('u1', s)).toBe(false);
    expect(takeOnboarding('u2', s)).toBe(true);
  });

  it('a storage that throws shows no welcome and breaks nothing', () => {
    const broken: MarkStore = {
      getItem: () => {
        throw new Error('blocked');
      },
      setItem: () => {
        throw new Error('blocked');
      },
      removeItem: () => {},
    };
    expect(() => markNewAccount('u1', broken)).not.toThrow();
    expect(takeOnboarding('u1', broken)).toBe(false);
  });
});
