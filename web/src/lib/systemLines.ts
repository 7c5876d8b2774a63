// Membership and room changes as lines in the timeline (plain TS): "Alice added Bob", "Bob left",
// "Carol was removed by Alice", "Dave was banned", "Erin is now an admin", "Alice renamed the
// group to “Plans”". From the room events the client receives (gateway and /events).
import { joinParts, roomChangeParts, untilLabel } from './moderation';
import type { RoomEvent } from './types';

/** The event kinds shown as a line. */
export const SYSTEM_KINDS: ReadonlySet<string> = new Set([
  'member.joined',
  'member.left',
  'member.kicked',
  'member.banned',
  'member.role_changed',
  'member.muted',
  'member.unmuted',
  'room.updated',
]);

export function isSystemEvent(ev: RoomEvent): boolean {
  return SYSTEM_KINDS.has(ev.type);
}

/**
 * The sentence for an event, or null when it says nothing worth a line. `name` gives a display
 * name; me is "You" at the start of a sentence and "you" inside it.
 */
export function systemLine(
  ev: RoomEvent,
  name: (id: string) => string,
  me?: string | null,
  nowMs: number = Date.now(),
): string | null {
  const who = (id: string | null | undefined, start: boolean) =>
    !id ? 'Someone' : id === me ? (start ? 'You' : 'you') : name(id);
  const actor = who(ev.actor_id, true);
  const user = ev.user_id ?? ev.actor_id;
  const by = ev.actor_id && ev.actor_id !== user ? ` by ${who(ev.actor_id, false)}` : '';
  switch (ev.type) {
    case 'member.joined':
      if (ev.actor_id && ev.actor_id !== user) return `${actor} added ${who(user, false)}`;
      return ev.role === 'owner' ? `${who(user, true)} created the group` : `${who(user, true)} joined`;
    case 'member.left':
      return `${who(user, true)} left`;
    case 'member.kicked':
      return `${who(user, true)} ${user === me ? 'were' : 'was'} removed${by}`;
    case 'member.banned':
      return `${who(user, true)} ${user === me ? 'were' : 'was'} banned${by}`;
    case 'member.role_changed': {
      const subject = who(user, true);
      const are = user === me ? 'are' : 'is';
      if (ev.role === 'admin') return `${subject} ${are} now an admin`;
      if (ev.role === 'owner') return `${subject} ${are} now the owner`;
      if (ev.role === 'member') return `${subject} ${are} no longer an admin`;
      return null;
    }
    case 'member.muted': {
      const until = ev.muted_until ? ` until ${untilLabel(ev.muted_until, nowMs)}` : '';
      return `${who(user, true)} ${user === me ? 'were' : 'was'} muted${by}${until}`;
    }
    case 'member.unmuted':
      return `${who(user, true)} ${user === me ? 'were' : 'was'} unmuted${by}`;
    case 'room.updated': {
      const parts = roomChangeParts(ev.changes);
      return parts.length ? `${actor} ${joinParts(parts)}` : null;
    }
    default:
      return null;
  }
}
