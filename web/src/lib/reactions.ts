// Who reacted (plain TS): a reaction carries its count and the first 20 people (oldest first), so
// the line names them ("You, Alice and Bob") and counts the rest ("and 3 others").
import type { Reaction } from './types';

/**
 * "You, Alice and 2 others reacted with 👍". `name` gives a person's display name; me first as
 * "You"; people beyond the names the server sent (count > users) are counted, never guessed.
 */
export function reactorsLine(r: Reaction, name: (id: string) => string, me?: string | null, max = 20): string {
  const ids = [...r.users];
  const mine = me ? ids.indexOf(me) : -1;
  if (mine > 0) ids.unshift(...ids.splice(mine, 1));
  const shown = ids.slice(0, max).map((id) => (id === me ? 'You' : name(id)));
  const others = Math.max(0, r.count - shown.length);
  if (!shown.length) return `${r.count} ${r.count === 1 ? 'person' : 'people'} reacted with ${r.emoji}`;
  const parts = others ? [...shown, `${others} ${others === 1 ? 'other' : 'others'}`] : shown;
  const who = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `${who} reacted with ${r.emoji}`;
}
