import { describe, expect, it } from 'vitest';
import {
  auditExport,
  auditLine,
  auditPeople,
  countdownLabel,
  durationLabel,
  isMuted,
  parseDuration,
  reportStatusLabel,
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
