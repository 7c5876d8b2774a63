import { createEffect, createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { Drafts, MemoryDraftStorage } from '../src/lib/drafts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('drafts', () => {
  it('keeps a draft per room, saves once after typing stops, and survives a reload', async () => {
    const storage = new MemoryDraftStorage();
    const d = new Drafts(storage, 10);
    await d.load();
    d.put('a', 'h');
    d.put('a', 'he');
    d.put('a', 'hello');
    d.put('b', 'other room');
    expect(storage.data).toEqual({});
    await wait(30);
    expect(storage.data).toEqual({ a: 'hello', b: 'other room' });
    const again = new Drafts(storage, 10);
    await again.load();
    expect(again.get('a')).toBe('hello');
    expect(again.has('b')).toBe(true);
    expect(again.has('c')).toBe(false);
  });

  it('a blank draft is dropped; sign-out clears them all', async () => {
    const storage = new MemoryDraftStorage();
    const d = new Drafts(storage, 10);
    await d.load();
    d.put('a', 'x');
    d.put('a', '   ');
    await d.flush();
    expect(storage.data).toEqual({});
    d.put('b', 'y');
    await d.clear();
    expect(d.has('b')).toBe(false);
    expect(storage.data).toEqual({});
  });

  it("a keystroke in one room re-runs only what read that room's draft", () => {
    const d = new Drafts(new MemoryDraftStorage(), 10);
    const runs = { a: 0, b: 0 };
    const dispose = createRoot((done) => {
      createEffect(() => {
        d.has('a');
        runs.a++;
      });
      createEffect(() => {
        d.has('b');
        runs.b++;
      });
      return done;
    });
    d.put('a', 'typing');
    d.put('a', 'typing more');
    expect(runs.b).toBe(1);
    expect(runs.a).toBeGreaterThan(1);
    dispose();
  });

  it('never writes before what was kept is read (an early flush must not wipe it)', async () => {
    const storage = new MemoryDraftStorage();
    storage.data = { a: 'kept' };
    const d = new Drafts(storage, 10);
    await d.flush();
    expect(storage.data).toEqual({ a: 'kept' });
    d.put('b', 'typed while loading');
    await d.load();
    expect(d.get('a')).toBe('kept');
    expect(d.get('b')).toBe('typed while loading');
    await d.flush();
    expect(storage.data).toEqual({ a: 'kept', b: 'typed while loading' });
  });
});
