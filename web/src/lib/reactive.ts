// Small reactive helpers for the view models (plain TypeScript classes holding Solid signals).
import { type Accessor, createSignal, type Setter } from 'solid-js';

/**
 * A change counter per key: readers call `track(key)` inside a reactive scope, writers call
 * `bump(key)`. A bump re-runs only the computations that tracked that key (or `bumpAll`).
 * Signals are made on first read, so keys nobody reads cost nothing.
 */
export class Versions {
  private readonly signals = new Map<string, [Accessor<number>, Setter<number>]>();
  private readonly all = createSignal(0);

  track(key: string): void {
    let s = this.signals.get(key);
    if (!s) {
      s = createSignal(0);
      this.signals.set(key, s);
    }
    s[0]();
    this.all[0]();
  }

  bump(key: string): void {
    this.signals.get(key)?.[1]((v) => v + 1);
  }

  bumpAll(): void {
    this.all[1]((v) => v + 1);
  }
}

/** A value with a signal behind it: `get()` is tracked, `set()` notifies when it changed. */
export function signal<T>(initial: T): { get: Accessor<T>; set: (v: T) => void } {
  const [get, set] = createSignal(initial);
  return { get, set: (v: T) => set(() => v) };
}
