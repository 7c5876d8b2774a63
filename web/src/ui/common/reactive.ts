import { createSignal, onCleanup } from 'solid-js';
import type { Client } from '../../lib/client';

/** A signal that changes whenever the client's view models change. Read it to subscribe. */
export function useTick(client: Client): () => number {
  const [tick, setTick] = createSignal(0);
  const off = client.changes.subscribe(() => setTick((t) => t + 1));
  onCleanup(off);
  return tick;
}
