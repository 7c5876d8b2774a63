// One shared clock for countdowns and mutes that end: a signal that ticks every second while
// something reads it (nothing ticks when no countdown is on screen).
import { createSignal, getOwner, onCleanup } from 'solid-js';

const [now, setNow] = createSignal(Date.now());
let readers = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** The time (ms), updated every second while the calling component is mounted. */
export function useNow(): () => number {
  if (getOwner()) {
    if (readers++ === 0) {
      setNow(Date.now());
      timer = setInterval(() => setNow(Date.now()), 1000);
    }
    onCleanup(() => {
      if (--readers === 0) clearInterval(timer);
    });
  }
  return now;
}
