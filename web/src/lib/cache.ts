// IndexedDB cache of rooms and recent messages for an instant start (and offline start).
// Each room's messages are stored with the seq they reflect, so sync resumes from there.
import type { Me, Message, Room } from './types';
import { tx } from './idb';

export interface CachedRoom {
  messages: Message[];
  have: number;
}

export interface CacheSnapshot {
  user: Me;
  rooms: Room[];
  timelines: Record<string, CachedRoom>;
}

export interface CacheStore {
  load(): Promise<CacheSnapshot | undefined>;
  save(s: CacheSnapshot): Promise<void>;
  clear(): Promise<void>;
}

export class IdbCache implements CacheStore {
  async load(): Promise<CacheSnapshot | undefined> {
    try {
      return (await tx<CacheSnapshot>('kv', 'readonly', (s) => s.get('snapshot'))) ?? undefined;
    } catch {
      return undefined;
    }
  }
  async save(s: CacheSnapshot): Promise<void> {
    await tx('kv', 'readwrite', (st) => st.put(s, 'snapshot'));
  }
  async clear(): Promise<void> {
    await tx('kv', 'readwrite', (st) => st.delete('snapshot'));
  }
}
