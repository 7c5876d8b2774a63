// The recently used emoji of this browser (localStorage), as a signal: the quick reactions follow
// every pick at once, in every open message.
import { createSignal } from 'solid-js';
import { type KeyValue, recentEmoji, rememberEmoji } from '../../lib/emoji';

function store(): KeyValue | undefined {
  try {
    return localStorage;
  } catch {
    return undefined;
  }
}

const [recent, setRecent] = createSignal(recentEmoji(store()));

/** The quick reactions: recently used first, topped up with the defaults. */
export { recent };

/** An emoji was used (a reaction, the composer's picker, a shortcode). */
export function noteEmojiUse(unicode: string): void {
  rememberEmoji(store(), unicode);
  setRecent(recentEmoji(store()));
  void import('./picker').then((m) => m.countUse(unicode)).catch(() => {});
}
