// The "should this message raise a browser notification?" decision (plain TS, no DOM), kept
// apart from the Notification API so every rule is unit-tested.
import type { Message, RoomKind } from './types';

/** all: every message; mentions: @-mentions of me, @room and direct messages; none: nothing. */
export type NotifyPref = 'all' | 'mentions' | 'none';

export interface NotifyInput {
  pref: NotifyPref;
  /** The browser's permission; anything but granted means no notification. */
  permission: NotificationPermission | 'unsupported';
  /** Whether the tab is hidden (a visible tab shows the message itself). */
  hidden: boolean;
  me: string | null;
  roomKind: RoomKind | undefined;
  message: Message;
  now: number;
}

/** Messages older than this are catch-up after a reconnect, not news: no notification. */
export const NOTIFY_MAX_AGE_MS = 60_000;

export function shouldNotify(i: NotifyInput): boolean {
  if (i.pref === 'none' || i.permission !== 'granted' || !i.hidden) return false;
  const m = i.message;
  if (!i.me || m.sender_id === i.me || m.deleted_at) return false;
  const created = Date.parse(m.created_at);
  if (!Number.isFinite(created) || i.now - created > NOTIFY_MAX_AGE_MS) return false;
  if (i.pref === 'all') return true;
  return i.roomKind === 'dm' || m.mentions_room || m.mentions.includes(i.me);
}
