/**
 * Presence from the person's own activity: `idle` after {@link IDLE_AFTER_MS} without input or
 * while the tab is hidden, `online` again at the first input or when the tab shows. A new socket
 * starts `online` on the server, so an idle person's status is sent again after each reconnect.
 * The clock and the sender are injected so the rules are unit-tested without a browser.
 */
export const IDLE_AFTER_MS = 5 * 60_000;

export type Status = 'online' | 'idle';

export interface IdleDeps {
  /** Sends the gateway's `presence` op; failures are ignored (presence is best-effort). */
  send: (status: Status) => Promise<unknown>;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

export class IdleTracker {
  status: Status = 'online';
  private timer: unknown = null;
  private hidden = false;

  constructor(private readonly deps: IdleDeps) {
    this.arm();
  }

  /** Any input: back to `online` (told once), and the countdown starts again. */
  activity(): void {
    if (this.hidden) return;
    this.arm();
    if (this.status === 'idle') this.set('online');
  }

  /** The tab was hidden (`true`) or shown again. */
  visibility(hidden: boolean): void {
    this.hidden = hidden;
    if (hidden) {
      this.disarm();
      this.set('idle');
    } else {
      this.activity();
    }
  }

  /** A socket (re)connected: the server thinks `online`; repeat `idle` if that is not so. */
  connected(): void {
    if (this.status === 'idle') void this.deps.send('idle').catch(() => {});
  }

  private set(status: Status): void {
    if (this.status === status) return;
    this.status = status;
    void this.deps.send(status).catch(() => {});
  }

  private arm(): void {
    this.disarm();
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      this.set('idle');
    }, IDLE_AFTER_MS);
  }

  private disarm(): void {
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    this.timer = null;
  }
}
