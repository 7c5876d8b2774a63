import { describe, expect, it } from 'vitest';
import { IDLE_AFTER_MS, IdleTracker, type Status } from '../src/lib/idle';

/** A fake clock: timers fire when `advance` passes them. */
function harness() {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const sent: Status[] = [];
  const tracker = new IdleTracker({
    send: async (s) => {
      sent.push(s);
    },
    setTimer: (fn, ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (id) => {
      timers.delete(id as number);
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const [id, t] of [...timers]) {
      if (t.at <= now) {
        timers.delete(id);
        t.fn();
      }
    }
  };
  return { tracker, sent, advance };
}

describe('idle presence', () => {
  it('goes idle after five quiet minutes and online at the next input, telling the server once each', () => {
    const { tracker, sent, advance } = harness();
    advance(IDLE_AFTER_MS - 1);
    expect(sent).toEqual([]);
    tracker.activity();
    advance(IDLE_AFTER_MS - 1);
    expect(sent).toEqual([]); // input restarted the countdown
    advance(1);
    expect(sent).toEqual(['idle']);
    expect(tracker.status).toBe('idle');
    tracker.activity();
    tracker.activity();
    expect(sent).toEqual(['idle', 'online']);
  });

  it('is idle while the tab is hidden, whatever the timer, and online when it shows', () => {
    const { tracker, sent, advance } = harness();
    tracker.visibility(true);
    expect(sent).toEqual(['idle']);
    tracker.activity();
    advance(IDLE_AFTER_MS * 3);
    expect(sent).toEqual(['idle']); // no input counts while hidden, and no second idle
    tracker.visibility(false);
    expect(sent).toEqual(['idle', 'online']);
  });

  it('repeats idle after a reconnect (a new socket starts online), and only then', () => {
    const { tracker, sent, advance } = harness();
    tracker.connected();
    expect(sent).toEqual([]);
    advance(IDLE_AFTER_MS);
    tracker.connected();
    expect(sent).toEqual(['idle', 'idle']);
  });
});
