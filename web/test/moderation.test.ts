import { describe, expect, it } from 'vitest';
import {
  auditExport,
  auditLine,
  auditPeople,
  canDo,
  countdownLabel,
  durationLabel,
  isMuted,
  parseDuration,
  permissionChoiceAllowed,
  permissionEditable,
  permissionOf,
  permissionParts,
  reportStatusLabel,
  roleAtLeast,
  roomChangeParts,
  reportSubject,
  SERVER_ACTOR,
  secondsLeft,
  slowModeApplies,
  slowModeChoiceLabel,
  slowModeNote,
} from '../src/lib/moderation';
import type { AuditEntry, Report } from '../src/lib/types';

const names: Record<string, string> = { a: 'Alice', b: 'Bob', c: 'Carol' };
const name = (id: string) => names[id] ?? 'Someone';
const entry = (p: Partial<AuditEntry>): AuditEntry => ({
  id: 'e1',
  room_id: 'r',
  actor_id: 'a',
  action: 'member_kicked',
  target_user_id: 'b',
  target_message_id: null,
  reason: null,
  details: null,
  created_at: '2026-01-01T10:00:00Z',
  ...p,
});

describe('durations', () => {
  it('reads short, at most two units', () => {
    expect(durationLabel(5)).toBe('5 s');
    expect(durationLabel(60)).toBe('1 min');
    expect(durationLabel(90)).toBe('1 min 30 s');
    expect(durationLabel(3600)).toBe('1 h');
    expect(durationLabel(5400)).toBe('1 h 30 min');
    expect(durationLabel(3605)).toBe('1 h');
    expect(durationLabel(86_400)).toBe('1 day');
    expect(durationLabel(2 * 86_400 + 4 * 3600)).toBe('2 days 4 h');
    expect(durationLabel(604_800)).toBe('1 week');
    expect(durationLabel(-3)).toBe('0 s');
  });
  it('slow mode labels and who it applies to', () => {
    expect(slowModeChoiceLabel(0)).toBe('Off');
    expect(slowModeChoiceLabel(30)).toBe('30 s');
    expect(slowModeNote(30)).toBe('Slow mode: one message every 30 s');
    expect(slowModeNote(0)).toBe('');
    expect(slowModeNote(null)).toBe('');
    expect(slowModeApplies(30, 'member')).toBe(true);
    expect(slowModeApplies(30, 'admin')).toBe(false);
    expect(slowModeApplies(30, 'owner')).toBe(false);
    expect(slowModeApplies(0, 'member')).toBe(false);
  });
  it('parses custom durations within bounds', () => {
    expect(parseDuration('2', 'minutes', 'seconds', 21_600)).toBe(120);
    expect(parseDuration('6', 'hours', 'seconds', 21_600)).toBe(21_600);
    expect(parseDuration('7', 'hours', 'seconds', 21_600)).toBeNull();
    expect(parseDuration('1,5', 'hours', 'minutes', 525_600)).toBe(90);
    expect(parseDuration('3', 'days', 'minutes', 525_600)).toBe(4320);
    expect(parseDuration('0', 'minutes', 'minutes', 525_600)).toBeNull();
    expect(parseDuration('', 'minutes', 'minutes', 525_600)).toBeNull();
    expect(parseDuration('abc', 'minutes', 'minutes', 525_600)).toBeNull();
    expect(parseDuration('10', 'seconds', 'minutes', 525_600)).toBeNull();
  });
});

describe('countdown', () => {
  it('counts whole seconds up, never below zero', () => {
    expect(secondsLeft(10_000, 0)).toBe(10);
    expect(secondsLeft(10_000, 9_001)).toBe(1);
    expect(secondsLeft(10_000, 10_000)).toBe(0);
    expect(secondsLeft(10_000, 12_000)).toBe(0);
    expect(secondsLeft(0, 5)).toBe(0);
    expect(countdownLabel(12)).toBe('You can send again in 12 s');
    expect(countdownLabel(65)).toBe('You can send again in 1 min 5 s');
    expect(countdownLabel(0)).toBe('');
  });
  it('knows when a mute is over', () => {
    expect(isMuted('2026-01-01T10:00:00Z', Date.parse('2026-01-01T09:59:59Z'))).toBe(true);
    expect(isMuted('2026-01-01T10:00:00Z', Date.parse('2026-01-01T10:00:00Z'))).toBe(false);
    expect(isMuted(null, 0)).toBe(false);
  });
});

describe('auditLine', () => {
  it('says who did what to whom, with the reason', () => {
    expect(auditLine(entry({ reason: 'spam' }), name)).toBe('Alice removed Bob from the group — spam');
    expect(auditLine(entry({ action: 'member_banned' }), name)).toBe('Alice banned Bob');
    expect(auditLine(entry({ action: 'member_unbanned' }), name)).toBe('Alice unbanned Bob');
    expect(auditLine(entry({ action: 'member_unmuted' }), name)).toBe('Alice unmuted Bob');
    expect(auditLine(entry({ action: 'message_removed', target_message_id: 'm' }), name)).toBe(
      'Alice removed a message by Bob',
    );
    expect(auditLine(entry({ action: 'room_deleted', target_user_id: null }), name)).toBe('Alice deleted the group');
  });
  it('says how long a mute was for', () => {
    const details = { until: '2026-01-01T11:00:00.4Z' } as unknown as AuditEntry['details'];
    expect(auditLine(entry({ action: 'member_muted', details, reason: 'flooding' }), name)).toBe(
      'Alice muted Bob for 1 h — flooding',
    );
    expect(auditLine(entry({ action: 'member_muted' }), name)).toBe('Alice muted Bob');
  });
  it('says role and room changes', () => {
    const d = (x: unknown) => x as AuditEntry['details'];
    expect(auditLine(entry({ action: 'role_changed', details: d({ role: 'admin' }) }), name)).toBe(
      'Alice made Bob an admin',
    );
    expect(auditLine(entry({ action: 'role_changed', details: d({ role: 'owner' }) }), name)).toBe(
      'Alice made Bob the owner',
    );
    expect(auditLine(entry({ action: 'role_changed', details: d({ role: 'member' }) }), name)).toBe(
      'Alice made Bob a member',
    );
    const room = (x: unknown) => entry({ action: 'room_updated', target_user_id: null, details: d(x) });
    expect(auditLine(room({ slow_mode_seconds: 30 }), name)).toBe('Alice changed slow mode to 30 s');
    expect(auditLine(room({ slow_mode_seconds: 0 }), name)).toBe('Alice turned slow mode off');
    expect(auditLine(room({ name: 'Plans', only_admins_post: true }), name)).toBe(
      'Alice renamed the group to “Plans” and let only admins post',
    );
    expect(auditLine(room({}), name)).toBe('Alice changed the group settings');
  });
  it('says purges and resolved reports', () => {
    const d = (x: unknown) => x as AuditEntry['details'];
    expect(
      auditLine(
        entry({
          action: 'retention_purged',
          actor_id: SERVER_ACTOR,
          target_user_id: null,
          details: d({ messages: 3 }),
        }),
        name,
      ),
    ).toBe('The server deleted 3 expired messages');
    expect(
      auditLine(
        entry({
          action: 'report_resolved',
          details: d({ outcome: 'action_taken', reporter_id: 'c' }),
          reason: 'warned',
        }),
        name,
      ),
    ).toBe('Alice resolved a report about Bob: action taken — warned');
    expect(auditLine(entry({ action: 'report_resolved', details: d({ outcome: 'dismissed' }) }), name)).toBe(
      'Alice resolved a report about Bob: dismissed',
    );
    expect(auditPeople(entry({ action: 'report_resolved', details: d({ reporter_id: 'c' }) }))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(auditPeople(entry({ actor_id: SERVER_ACTOR, target_user_id: null }))).toEqual([]);
  });
  it('exports the entries as JSON', () => {
    const e = [entry({})];
    const out = JSON.parse(auditExport('r', e, '2026-01-02T00:00:00Z'));
    expect(out).toEqual({ room_id: 'r', exported_at: '2026-01-02T00:00:00Z', entries: e });
  });
});

describe('reports', () => {
  const report = (p: Partial<Report>): Report => ({
    id: 'p',
    room_id: 'r',
    reporter_id: 'a',
    target_user_id: 'b',
    message_id: 'm',
    excerpt: 'buy cheap pills',
    reason: 'spam',
    status: 'open',
    resolution_note: null,
    resolved_at: null,
    resolved_by: null,
    created_at: '2026-01-01T10:00:00Z',
    ...p,
  });
  it('says what a report is about and where it stands', () => {
    expect(reportSubject(report({}), name)).toBe('A message by Bob: “buy cheap pills”');
    expect(reportSubject(report({ excerpt: '' }), name)).toBe('A message by Bob (attachments only)');
    expect(reportSubject(report({ message_id: null, excerpt: '' }), name)).toBe('Bob (the person)');
    expect(reportStatusLabel('open')).toBe('Open');
    expect(reportStatusLabel('action_taken')).toBe('Action taken');
    expect(reportStatusLabel('dismissed')).toBe('Dismissed');
  });
});

const det = (x: unknown) => x as AuditEntry['details'];

describe('per-room permissions', () => {
  const group = (my_role: 'member' | 'admin' | 'owner', permissions?: Record<string, string>) =>
    ({ kind: 'group', my_role, permissions }) as Parameters<typeof canDo>[0];
  it('orders roles and reads the least role (admins when the room does not say)', () => {
    expect(roleAtLeast('owner', 'admin')).toBe(true);
    expect(roleAtLeast('admin', 'owner')).toBe(false);
    expect(roleAtLeast(null, 'member')).toBe(true);
    expect(roleAtLeast(undefined, 'admin')).toBe(false);
    expect(permissionOf(null, 'pin')).toBe('admin');
    expect(permissionOf({ permissions: { invite: 'member', pin: 'owner', mention_room: 'admin' } }, 'pin')).toBe(
      'owner',
    );
  });
  it('lets my role and up act; in a DM anyone pins and nobody invites or mentions @room', () => {
    const open = { invite: 'member', pin: 'member', mention_room: 'owner' };
    expect(canDo(group('member', open), 'pin')).toBe(true);
    expect(canDo(group('member', open), 'invite')).toBe(true);
    expect(canDo(group('admin', open), 'mention_room')).toBe(false);
    expect(canDo(group('owner', open), 'mention_room')).toBe(true);
    expect(canDo(group('member'), 'pin')).toBe(false);
    expect(canDo(group('admin'), 'pin')).toBe(true);
    const dm = { kind: 'dm', my_role: 'member', permissions: undefined } as unknown as Parameters<typeof canDo>[0];
    expect(canDo(dm, 'pin')).toBe(true);
    expect(canDo(dm, 'invite')).toBe(false);
    expect(canDo(dm, 'mention_room')).toBe(false);
    expect(canDo(undefined, 'pin')).toBe(false);
  });
  it('nobody sets a value above their role or changes one above it', () => {
    expect(permissionChoiceAllowed('admin', 'owner')).toBe(false);
    expect(permissionChoiceAllowed('admin', 'member')).toBe(true);
    expect(permissionChoiceAllowed('owner', 'owner')).toBe(true);
    expect(permissionEditable('admin', 'owner')).toBe(false);
    expect(permissionEditable('admin', 'admin')).toBe(true);
    expect(permissionEditable('owner', 'owner')).toBe(true);
  });
  it('says a change in words (timeline lines and the audit log)', () => {
    expect(permissionParts({ pin: 'member' })).toEqual(['let members pin messages']);
    expect(permissionParts({ mention_room: 'owner' })).toEqual(['reserved @room to the owner']);
    expect(permissionParts({ invite: 'admin', pin: null })).toEqual([
      'let only admins add people and create invite links',
    ]);
    expect(roomChangeParts({ slow_mode_seconds: 0, permissions: { pin: 'owner' } })).toEqual([
      'turned slow mode off',
      'reserved pinning to the owner',
    ]);
    expect(
      auditLine(
        entry({
          action: 'room_updated',
          target_user_id: null,
          details: det({ permissions: { mention_room: 'member' } }),
        }),
        name,
      ),
    ).toBe('Alice let members mention @room');
  });
});

describe('instance bans in the audit log', () => {
  it('reads suspensions and sign-up blocks as sentences', () => {
    const inst = (p: Partial<AuditEntry>) => entry({ room_id: null, ...p });
    expect(auditLine(inst({ action: 'account_suspended', target_user_id: 'b', reason: 'spam run' }), name)).toBe(
      'Alice suspended Bob — spam run',
    );
    expect(auditLine(inst({ action: 'account_unsuspended', target_user_id: 'b' }), name)).toBe('Alice reinstated Bob');
    expect(
      auditLine(
        inst({
          action: 'signup_block_added',
          target_user_id: null,
          details: det({ block_id: 'x', cidr: '203.0.113.0/24' }),
        }),
        name,
      ),
    ).toBe('Alice blocked sign-ups from 203.0.113.0/24');
    expect(
      auditLine(
        inst({
          action: 'signup_block_removed',
          target_user_id: null,
          details: det({ block_id: 'x', cidr: '10.0.0.0/8' }),
          reason: 'fixed',
        }),
        name,
      ),
    ).toBe('Alice lifted the sign-up block on 10.0.0.0/8 — fixed');
  });
});
