/** A tiny change notifier: view models call `emit()`, views subscribe and re-read snapshots. */
export class Emitter {
  private listeners = new Set<() => void>();
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  emit(): void {
    for (const fn of [...this.listeners]) fn();
  }
}
