// Moderation in plain TS: durations (slow mode, mutes), countdowns, and the audit log and
// reports as sentences. The views (ui/moderation) and the client model (client/moderation.ts)
// use these; they are unit tested (test/moderation.test.ts).
import { ApiError } from './api';
import { friendlyError, sentence } from './errors';
import type { AuditEntry, Report, Role, Room, RoomChanges } from './types';

// ---------- roles and per-room permissions ----------

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/** Whether `role` is `least` or above (member < admin < owner); no role counts as member. */
export function roleAtLeast(role: Role | null | undefined, least: Role): boolean {
  return RANK[role ?? 'member'] >= RANK[least];
}

/** The actions a group's `permissions` govern (the least role that may do each). */
export type PermissionKey = 'invite' | 'pin' | 'mention_room';
export const PERMISSION_KEYS: readonly PermissionKey[] = ['invite', 'pin', 'mention_room'];
export const PERMISSION_LABELS: Record<PermissionKey, string> = {
  invite: 'Who can add people and create invite links',
  pin: 'Who can pin messages',
  mention_room: 'Who can mention @room',
};
export const ROLE_CHOICES: readonly { value: Role; label: string }[] = [
  { value: 'member', label: 'Members' },
  { value: 'admin', label: 'Admins' },
  { value: 'owner', label: 'Owner only' },
];

/** The least role for an action (admins when the room does not say: the server's default). */
export function permissionOf(room: Pick<Room, 'permissions'> | null | undefined, key: PermissionKey): Role {
  return room?.permissions?.[key] ?? 'admin';
}

/**
 * Whether I may do `key` in a room: in a group my role against its permission; in a DM anyone
 * pins, and there is nobody to add and no @room.
 */
export function canDo(
  room: Pick<Room, 'kind' | 'my_role' | 'permissions'> | null | undefined,
  key: PermissionKey,
): boolean {
  if (!room) return false;
  if (room.kind === 'dm') return key === 'pin';
  return roleAtLeast(room.my_role, permissionOf(room, key));
}

/**
 * Whether I may change a permission now at `current` (nobody changes one above their own role:
 * 403 permission_above_role), and to which values (none above my role).
 */
export function permissionEditable(myRole: Role | null | undefined, current: Role): boolean {
  return roleAtLeast(myRole, current);
}
export function permissionChoiceAllowed(myRole: Role | null | undefined, value: Role): boolean {
  return roleAtLeast(myRole, value);
}

const PERMISSION_PHRASES: Record<PermissionKey, Record<Role, string>> = {
  invite: {
    member: 'let members add people and create invite links',
    admin: 'let only admins add people and create invite links',
    owner: 'reserved adding people and invite links to the owner',
  },
  pin: {
    member: 'let members pin messages',
    admin: 'let only admins pin messages',
    owner: 'reserved pinning to the owner',
  },
  mention_room: {
    member: 'let members mention @room',
    admin: 'reserved @room to admins',
    owner: 'reserved @room to the owner',
  },
};

/** A permissions change as verb phrases ("let members pin messages", "reserved @room to the owner"). */
export function permissionParts(p: Partial<Record<PermissionKey, Role | null>> | null | undefined): string[] {
  if (!p) return [];
  return PERMISSION_KEYS.flatMap((k) => {
    const v = p[k];
    return v ? [PERMISSION_PHRASES[k][v]] : [];
  });
}

/** Slow mode choices in seconds (0 = off); the server takes 0–21600. */
export const SLOW_MODE_CHOICES: readonly number[] = [0, 5, 10, 30, 60, 300, 900, 3600];
export const SLOW_MODE_MAX = 21_600;

/** Mute choices in minutes; the server takes 1–525600. */
export const MUTE_CHOICES: readonly { value: number; label: string }[] = [
  { value: 10, label: '10 min' },
  { value: 60, label: '1 h' },
  { value: 480, label: '8 h' },
  { value: 1440, label: '24 h' },
  { value: 10_080, label: '1 week' },
];
export const MUTE_MAX_MINUTES = 525_600;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * A duration in seconds, short: "5 s", "1 min", "1 min 30 s", "1 h", "8 h", "1 day", "1 week",
 * "3 days 4 h". At most two units.
 */
export function durationLabel(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const units: [number, (n: number) => string][] = [
    [604_800, (n) => plural(n, 'week', 'weeks')],
    [86_400, (n) => plural(n, 'day', 'days')],
    [3_600, (n) => `${n} h`],
    [60, (n) => `${n} min`],
    [1, (n) => `${n} s`],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, label] of units) {
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(label(n));
      rest -= n * size;
    } else if (parts.length) break; // "1 h 5 s" would read oddly: stop at the first gap
  }
  return parts.join(' ');
}

/** What the slow mode select shows for a value. */
export function slowModeChoiceLabel(seconds: number): string {
  return seconds <= 0 ? 'Off' : durationLabel(seconds);
}

/** The line members see near the composer, or '' when slow mode is off. */
export function slowModeNote(seconds: number | null | undefined): string {
  return seconds && seconds > 0 ? `Slow mode: one message every ${durationLabel(seconds)}` : '';
}

/** Who slow mode applies to: members (admins and the owner are exempt). */
export function slowModeApplies(seconds: number | null | undefined, role: string | null | undefined): boolean {
  return !!seconds && seconds > 0 && (role ?? 'member') === 'member';
}

/** Whole seconds left until `untilMs` (rounded up; 0 when passed). */
export function secondsLeft(untilMs: number | null | undefined, nowMs: number): number {
  if (!untilMs) return 0;
  return Math.max(0, Math.ceil((untilMs - nowMs) / 1000));
}

/** "You can send again in 12 s" / "… in 1 min 5 s", or '' when nothing to wait for. */
export function countdownLabel(secs: number): string {
  return secs > 0 ? `You can send again in ${durationLabel(secs)}` : '';
}

/**
 * A custom duration typed by a person: an amount and a unit. Returns whole units of `out`
 * (seconds or minutes), or null when it is not a positive number within [1, max].
 */
export function parseDuration(
  amount: string,
  unit: 'seconds' | 'minutes' | 'hours' | 'days',
  out: 'seconds' | 'minutes',
  max: number,
): number | null {
  const n = Number(amount.trim().replace(',', '.'));
  if (!amount.trim() || !Number.isFinite(n) || n <= 0) return null;
  const secs = n * { seconds: 1, minutes: 60, hours: 3600, days: 86_400 }[unit];
  const v = Math.round(out === 'seconds' ? secs : secs / 60);
  return v >= 1 && v <= max ? v : null;
}

/** Whether a mute (an ISO time or null) is still on at `nowMs`. */
export function isMuted(until: string | null | undefined, nowMs: number): boolean {
  return !!until && Date.parse(until) > nowMs;
}

/**
 * When something ends, for a sentence: "14:05" today, "Tue 9 Dec, 14:05" otherwise (in the
 * viewer's locale and time zone).
 */
export function untilLabel(iso: string, nowMs: number, locale?: string): string {
  const d = new Date(iso);
  const now = new Date(nowMs);
  const time = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return time;
  const date = d.toLocaleDateString(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(d.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}),
  });
  return `${date}, ${time}`;
}

const quote = (s: string) => `“${s.length > 80 ? `${s.slice(0, 79)}…` : s}”`;
const days = (n: number) =>
  n % 365 === 0 ? `${n / 365} ${n === 365 ? 'year' : 'years'}` : `${n} ${n === 1 ? 'day' : 'days'}`;

/**
 * What a room change did, as verb phrases ("renamed the group to “Plans”", "changed slow mode
 * to 30 s"): shared by the timeline's lines and the audit log.
 */
export function roomChangeParts(ch: Partial<RoomChanges> | null | undefined): string[] {
  if (!ch) return [];
  const parts: string[] = [];
  if (ch.name !== undefined) parts.push(ch.name ? `renamed the group to ${quote(ch.name)}` : 'removed the name');
  if (ch.topic !== undefined) parts.push(ch.topic ? `set the topic to ${quote(ch.topic)}` : 'cleared the topic');
  if (ch.avatar !== undefined) parts.push(ch.avatar ? 'changed the picture' : 'removed the picture');
  if (ch.only_admins_post !== undefined && ch.only_admins_post !== null)
    parts.push(ch.only_admins_post ? 'let only admins post' : 'let everyone post');
  if (ch.retention_days !== undefined)
    parts.push(
      ch.retention_days
        ? `set messages to disappear after ${days(ch.retention_days)}`
        : 'set messages to follow the server’s policy',
    );
  if (ch.slow_mode_seconds !== undefined && ch.slow_mode_seconds !== null)
    parts.push(
      ch.slow_mode_seconds > 0 ? `changed slow mode to ${durationLabel(ch.slow_mode_seconds)}` : 'turned slow mode off',
    );
  parts.push(...permissionParts(ch.permissions));
  return parts;
}

/** "a, b and c". */
export function joinParts(parts: string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** The nil UUID: the server itself acted (a retention purge). */
export const SERVER_ACTOR = '00000000-0000-0000-0000-000000000000';

/**
 * One audit log entry as a sentence: "Alice muted Bob for 1 h — flooding", "Alice changed slow
 * mode to 30 s". `name` gives display names.
 */
export function auditLine(e: AuditEntry, name: (id: string) => string): string {
  const actor = e.actor_id === SERVER_ACTOR ? 'The server' : name(e.actor_id);
  const target = e.target_user_id ? name(e.target_user_id) : 'someone';
  const d = (e.details ?? {}) as Record<string, unknown>;
  let what: string;
  switch (e.action) {
    case 'member_kicked':
      what = `removed ${target} from the group`;
      break;
    case 'member_banned':
      what = `banned ${target}`;
      break;
    case 'member_unbanned':
      what = `unbanned ${target}`;
      break;
    case 'member_muted': {
      const until = typeof d.until === 'string' ? Date.parse(d.until) : Number.NaN;
      const secs = (until - Date.parse(e.created_at)) / 1000;
      // The server keeps the end, not the length asked for: round to the minute it was.
      what =
        Number.isFinite(secs) && secs > 0
          ? `muted ${target} for ${durationLabel(Math.round(secs / 60) * 60)}`
          : `muted ${target}`;
      break;
    }
    case 'member_unmuted':
      what = `unmuted ${target}`;
      break;
    case 'role_changed':
      what =
        d.role === 'owner'
          ? `made ${target} the owner`
          : d.role === 'admin'
            ? `made ${target} an admin`
            : `made ${target} a member`;
      break;
    case 'room_updated': {
      const parts = roomChangeParts(d as Partial<RoomChanges>);
      what = parts.length ? joinParts(parts) : 'changed the group settings';
      break;
    }
    case 'room_deleted':
      what = 'deleted the group';
      break;
    case 'message_removed':
      what = `removed a message by ${target}`;
      break;
    case 'retention_purged': {
      const n = typeof d.messages === 'number' ? d.messages : 0;
      what = `deleted ${plural(n, 'expired message', 'expired messages')}`;
      break;
    }
    case 'report_resolved':
      what = `resolved a report about ${target}: ${d.outcome === 'action_taken' ? 'action taken' : 'dismissed'}`;
      break;
    case 'account_suspended':
      what = `suspended ${target}`;
      break;
    case 'account_unsuspended':
      what = `reinstated ${target}`;
      break;
    case 'signup_block_added':
      what = typeof d.cidr === 'string' ? `blocked sign-ups from ${d.cidr}` : 'blocked sign-ups from a range';
      break;
    case 'signup_block_removed':
      what = typeof d.cidr === 'string' ? `lifted the sign-up block on ${d.cidr}` : 'lifted a sign-up block';
      break;
    default:
      what = String(e.action).replace(/_/g, ' ');
  }
  return `${actor} ${what}${e.reason ? ` — ${e.reason}` : ''}`;
}

/** The user ids an entry names (to look up names before showing it). */
export function auditPeople(e: AuditEntry): string[] {
  const d = (e.details ?? {}) as Record<string, unknown>;
  return [e.actor_id, e.target_user_id, typeof d.reporter_id === 'string' ? d.reporter_id : null].filter(
    (x): x is string => !!x && x !== SERVER_ACTOR,
  );
}

/** A report's state in words. */
export function reportStatusLabel(s: Report['status']): string {
  return s === 'open' ? 'Open' : s === 'action_taken' ? 'Action taken' : 'Dismissed';
}

/** What a report is about: "A message by Bob: “…”" or "Bob (the person)". */
export function reportSubject(r: Report, name: (id: string) => string): string {
  if (!r.message_id) return `${name(r.target_user_id)} (the person)`;
  const ex = r.excerpt.trim();
  return `A message by ${name(r.target_user_id)}${ex ? `: ${quote(ex)}` : ' (attachments only)'}`;
}

/** The JSON an audit export downloads (entries as the server gave them, newest first). */
export function auditExport(roomId: string | null, entries: readonly AuditEntry[], nowIso: string): string {
  return `${JSON.stringify({ room_id: roomId, exported_at: nowIso, entries }, null, 2)}\n`;
}

/** What to say for a refused suspension or sign-up block; `field` when it is about the range. */
export function instanceBanError(e: unknown): { text: string; extra?: boolean } {
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'invalid':
        return { text: 'Give an address range in CIDR notation (203.0.113.0/24) or one address.', extra: true };
      case 'too_wide':
        return { text: 'That range is too wide: at most a /8 of IPv4 or a /16 of IPv6.', extra: true };
      case 'already_blocked':
        return { text: 'Sign-ups from this range are already blocked.', extra: true };
      case 'cannot_suspend_admin':
        return { text: 'Instance admins cannot be suspended (the server’s operator names them).' };
      case 'cannot_suspend_self':
        return { text: 'You cannot suspend your own account.' };
      case 'forbidden':
        return { text: 'Only the server’s admins can do that.' };
    }
    if (e.status === 422 && e.message) return { text: sentence(e.message) };
  }
  return { text: friendlyError(e) };
}
