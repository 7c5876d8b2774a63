// Choosing people (plain TS): the member picker of "New group" and "Add people" (search results
// without me, the people already chosen, and the room's members), and which actions a member's
// menu offers (by my role and theirs).
import type { PublicUser, Role } from './types';

/** Results worth offering: not me, not chosen yet, not already in the room; in search order. */
export function pickable(
  results: readonly PublicUser[],
  opts: { chosen?: readonly PublicUser[]; exclude?: ReadonlySet<string>; me?: string | null },
): PublicUser[] {
  const chosen = new Set((opts.chosen ?? []).map((u) => u.id));
  return results.filter((u) => u.id !== opts.me && !chosen.has(u.id) && !opts.exclude?.has(u.id));
}

/** Add a person to the chosen ones (once), or take them out. */
export function toggleChosen(chosen: readonly PublicUser[], u: PublicUser): PublicUser[] {
  return chosen.some((c) => c.id === u.id) ? chosen.filter((c) => c.id !== u.id) : [...chosen, u];
}

export type MemberAction = 'promote' | 'demote' | 'owner' | 'mute' | 'kick' | 'ban';

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/**
 * What I may do to a member of a group (the server's rules, crates/core room.rs `can`): the owner
 * changes roles (promote a member, demote an admin) and hands over ownership; admins and the
 * owner mute, remove or ban someone of a lower role. Nothing to myself.
 */
export function memberActions(myRole: Role, theirRole: Role, isMe: boolean): MemberAction[] {
  if (isMe) return [];
  const out: MemberAction[] = [];
  const above = RANK[myRole] > RANK[theirRole];
  if (myRole === 'owner' && theirRole === 'member') out.push('promote');
  if (myRole === 'owner' && theirRole === 'admin') out.push('demote');
  if (myRole === 'owner') out.push('owner');
  if (above) out.push('mute', 'kick', 'ban');
  return out;
}

const names = (people: readonly PublicUser[], ids: readonly string[]) =>
  people
    .filter((u) => ids.includes(u.id))
    .map((u) => u.display_name || u.username)
    .join(', ');

/** What "New group" says after making the group: who got an invitation instead, who could not be added. */
export function groupNotice(
  people: readonly PublicUser[],
  invited: readonly string[],
  failed: readonly string[],
): string {
  const out: string[] = [];
  if (invited.length) out.push(`Invitation sent to ${names(people, invited)}: they join when they accept it.`);
  if (failed.length) out.push(`${names(people, failed)} could not be added.`);
  return out.join(' ');
}
