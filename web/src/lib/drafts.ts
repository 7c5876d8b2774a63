// What was typed but not sent, per room: kept across room switches and reloads (IndexedDB), so
// the room list can mark rooms with a draft. A Solid store keyed by room (a keystroke updates
// that room's mark only); writes are batched to one IndexedDB put a moment after typing stops.
import { createStore, produce, reconcile } from 'solid-js/store';
import { tx } from './idb';

export interface DraftStorage {
  load(): Promise<Record<string, string>>;
  save(all: Record<string, string>): Promise<void>;
}

export class IdbDraftStorage implements DraftStorage {
  async load(): Promise<Record<string, string>> {
    try {
      return (await tx<Record<string, string>>('kv', 'readonly', (s) => s.get('drafts'))) ?? {};
    } catch {
      return {};
    }
  }
  async save(all: Record<string, string>): Promise<void> {
    await tx('kv', 'readwrite', (s) => s.put(all, 'drafts'));
  }
}

export class MemoryDraftStorage implements DraftStorage {
  data: Record<string, string> = {};
  async load() {
    return { ...this.data };
  }
  async save(all: Record<string, string>) {
    this.data = { ...all };
  }
}

export class Drafts {
  private readonly state: Record<string, string>;
  private readonly set: ReturnType<typeof createStore<Record<string, string>>>[1];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Nothing is written before what was kept has been read (a write of {} would wipe it). */
  private loaded = false;

  constructor(
    private readonly storage: DraftStorage,
    private readonly delayMs = 400,
  ) {
    [this.state, this.set] = createStore<Record<string, string>>({});
  }

  /** Read what was kept (at sign-in or page load). */
  async load(): Promise<void> {
    const all = await this.storage.load().catch(() => ({}));
    // Anything typed while loading wins over what was kept.
    this.set(reconcile({ ...all, ...this.state }));
    this.loaded = true;
  }

  /** The room's draft, '' when none (tracked per room). */
  get(roomId: string): string {
    return this.state[roomId] ?? '';
  }

  has(roomId: string): boolean {
    return (this.state[roomId] ?? '').trim() !== '';
  }

  /** Keep (or, when blank, drop) a room's draft. */
  put(roomId: string, text: string): void {
    if (text.trim() === '') {
      if (!(roomId in this.state)) return;
      this.set(
        produce((s) => {
          delete s[roomId];
        }),
      );
    } else if (this.state[roomId] !== text) this.set(roomId, text);
    else return;
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Write now (the page is being hidden or closed). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.loaded) return;
    await this.storage.save({ ...this.state }).catch(() => {});
  }

  /** Sign-out: nothing typed here stays on the device. */
  async clear(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.set(reconcile({}));
    this.loaded = true;
    await this.storage.save({}).catch(() => {});
  }
}
