// Moderation: what applies to me in a room (muted until when, when slow mode lets me send
// next), and the admin actions and lists (mute, bans, reasons, reports, the audit log). State is
// a Solid store per room; the requests are plain REST (they are not queued offline: a moderator
// acts while connected and sees the answer).
import { createStore } from 'solid-js/store';
import { enc } from '../api';
import { Versions } from '../reactive';
import { slowModeApplies } from '../moderation';
import type {
  AuditEntry,
  AuditLog,
  BanList,
  CreateReport,
  Me,
  MemberView,
  MuteView,
  Report,
  ReportList,
  Role,
  RoomEvent,
} from '../types';
import type { components } from '../api/schema';
import type { PermissionKey } from '../moderation';

type Schemas = components['schemas'];
export type SuspendedUser = Schemas['SuspendedUser'];
export type SignupBlock = Schemas['SignupBlock'];
export type ReportRoom = Schemas['ReportRoom'];
import type { Client } from './index';

interface RoomState {
  /** When my mute ends (ISO), null when not muted. */
  mutedUntil?: string | null;
  /** When slow mode lets me send again (ms since the epoch), 0 when now. */
  nextSendAt?: number;
}

const q = (reason?: string) => (reason?.trim() ? `?reason=${enc(reason.trim())}` : '');

export class Moderation {
  private readonly state: Record<string, RoomState>;
  private readonly set: ReturnType<typeof createStore<Record<string, RoomState>>>[1];

  /** Per room: a text refused by slow mode went back to the draft (the composer reloads it). */
  private readonly returns = new Versions();

  /** Whether I am an instance admin, as last said by the server (login, refresh, GET /users/me). */
  private admin: { user: string; value: boolean } | null = null;
  /** People the server refused to suspend (403 cannot_suspend_admin): instance admins. */
  private readonly admins = new Set<string>();
  /** Rooms the instance report queue named (GET /admin/reports `rooms`), by id. */
  readonly reportRooms = new Map<string, ReportRoom>();

  constructor(private readonly c: Client) {
    [this.state, this.set] = createStore<Record<string, RoomState>>({});
  }

  /** Tracks texts returned to the room's draft. */
  trackReturned(roomId: string): void {
    this.returns.track(roomId);
  }

  returned(roomId: string): void {
    this.returns.bump(roomId);
  }

  // ---------- what applies to me ----------

  /** When my mute in the room ends (ISO), or null (tracked). The view compares it with the clock. */
  mutedUntil(roomId: string): string | null {
    return this.state[roomId]?.mutedUntil ?? null;
  }

  /** When slow mode lets me send again (ms), 0 when it does now (tracked). */
  nextSendAt(roomId: string): number {
    return this.state[roomId]?.nextSendAt ?? 0;
  }

  /** A room's member list arrived: my row says whether I am muted. */
  noteMembers(roomId: string, members: readonly MemberView[]): void {
    const me = this.c.session.me()?.id;
    const mine = members.find((m) => m.user.id === me);
    if (mine) this.set(roomId, { mutedUntil: mine.muted_until ?? null });
  }

  /** A room event (live or catch-up): mutes of me. */
  applyEvent(ev: RoomEvent): void {
    if (ev.user_id !== this.c.session.me()?.id) return;
    if (ev.type === 'member.muted') this.set(ev.room_id, { mutedUntil: ev.muted_until ?? null });
    else if (ev.type === 'member.unmuted') this.set(ev.room_id, { mutedUntil: null });
  }

  /** A send of mine was refused because I am muted (the list says until when). */
  refusedMuted(roomId: string): void {
    if (!this.mutedUntil(roomId)) this.set(roomId, { mutedUntil: new Date(Date.now() + 60_000).toISOString() });
    this.c.members.load(roomId).catch(() => {});
  }

  /** I just sent (or the server took my message): slow mode starts counting, if it applies to me. */
  noteSent(roomId: string): void {
    const r = this.c.rooms.get(roomId);
    if (!r || !slowModeApplies(r.slow_mode_seconds, r.my_role)) return;
    this.set(roomId, { nextSendAt: Date.now() + r.slow_mode_seconds * 1000 });
  }

  /** The server said to wait (429 `slow_mode`). */
  refusedSlow(roomId: string, retryAfterMs: number | undefined): void {
    const r = this.c.rooms.get(roomId);
    const wait = retryAfterMs ?? (r?.slow_mode_seconds ?? 0) * 1000;
    this.set(roomId, { nextSendAt: Date.now() + Math.max(1000, wait) });
  }

  // ---------- admin actions ----------

  async setSlowMode(roomId: string, seconds: number): Promise<void> {
    await this.c.api.patch(`/rooms/${roomId}`, { slow_mode_seconds: seconds });
  }

  async setOnlyAdminsPost(roomId: string, on: boolean): Promise<void> {
    await this.c.api.patch(`/rooms/${roomId}`, { only_admins_post: on });
  }

  /** Change some of a group's permissions (only those given; the rest stay). */
  async setPermissions(roomId: string, changes: Partial<Record<PermissionKey, Role>>): Promise<void> {
    await this.c.api.patch(`/rooms/${roomId}`, { permissions: changes });
  }

  async mute(roomId: string, userId: string, minutes: number, reason?: string): Promise<string> {
    const r = await this.c.api.request<MuteView>('PUT', `/rooms/${roomId}/members/${userId}/mute`, {
      minutes,
      reason: reason?.trim() || undefined,
    });
    await this.c.members.load(roomId).catch(() => {});
    return r.muted_until;
  }

  async unmute(roomId: string, userId: string, reason?: string): Promise<void> {
    await this.c.api.del(`/rooms/${roomId}/members/${userId}/mute${q(reason)}`);
    await this.c.members.load(roomId).catch(() => {});
  }

  async bans(roomId: string): Promise<string[]> {
    return (await this.c.api.get<BanList>(`/rooms/${roomId}/bans`)).user_ids;
  }

  async unban(roomId: string, userId: string, reason?: string): Promise<void> {
    await this.c.api.del(`/rooms/${roomId}/bans/${userId}${q(reason)}`);
  }

  /** Remove someone else's message as an admin (with a reason for the audit log). */
  async removeMessage(roomId: string, messageId: string, reason?: string): Promise<void> {
    await this.c.api.del(`/rooms/${roomId}/messages/${messageId}${q(reason)}`);
  }

  // ---------- audit ----------

  /** A page of the room's audit log (newest first), before an entry id. */
  async audit(roomId: string | null, before?: string, limit = 50): Promise<AuditEntry[]> {
    const base = roomId ? `/rooms/${roomId}/audit` : '/admin/audit';
    const params = [before ? `before=${enc(before)}` : '', `limit=${limit}`].filter(Boolean).join('&');
    return (await this.c.api.get<AuditLog>(`${base}?${params}`)).entries;
  }

  // ---------- reports ----------

  async report(body: CreateReport): Promise<Report> {
    return this.c.api.post<Report>('/reports', { ...body });
  }

  /**
   * Whether I am one of the instance's admins (tracked): login and refresh answers and GET
   * /users/me say so; other answers (PATCH /users/me) leave it out, so the last word is kept.
   */
  isInstanceAdmin(): boolean {
    const me = this.c.session.me();
    if (!me) return false;
    if (typeof me.instance_admin === 'boolean') {
      this.admin = { user: me.id, value: me.instance_admin };
      return me.instance_admin;
    }
    return this.admin?.user === me.id && this.admin.value;
  }

  /** Whether I am one of the instance's admins, asked of the server (GET /users/me). */
  async instanceAdmin(): Promise<boolean> {
    const me = await this.c.api.get<Me>('/users/me');
    const value = me.instance_admin === true;
    this.admin = { user: me.id, value };
    return value;
  }

  /**
   * Whether to offer "Suspend account…" on someone: I am an instance admin, they are not me, and
   * the server has not said they are an admin (it does not name the others in advance).
   */
  maySuspend(userId: string): boolean {
    return this.isInstanceAdmin() && userId !== this.c.session.me()?.id && !this.admins.has(userId);
  }

  /** The server refused to suspend an instance admin: stop offering it. */
  noteAdmin(userId: string): void {
    this.admins.add(userId);
  }

  // ---------- instance bans (instance admins) ----------

  async suspended(): Promise<SuspendedUser[]> {
    return (await this.c.api.get<Schemas['SuspendedUsers']>('/admin/suspensions')).users;
  }

  /** Suspend an account (its sessions end at once), optionally blocking sign-ups from a range too. */
  async suspend(userId: string, reason?: string, blockSignupsFrom?: string): Promise<void> {
    await this.c.api.request('PUT', `/admin/suspensions/${userId}`, {
      reason: reason?.trim() || undefined,
      block_signups_from: blockSignupsFrom?.trim() || undefined,
    });
  }

  async reinstate(userId: string, reason?: string): Promise<void> {
    await this.c.api.del(`/admin/suspensions/${userId}${q(reason)}`);
  }

  async signupBlocks(): Promise<SignupBlock[]> {
    return (await this.c.api.get<Schemas['SignupBlocks']>('/admin/signup-blocks')).blocks;
  }

  async blockSignups(cidr: string, reason?: string): Promise<SignupBlock> {
    return this.c.api.post<SignupBlock>('/admin/signup-blocks', {
      cidr: cidr.trim(),
      reason: reason?.trim() || undefined,
    });
  }

  async unblockSignups(id: string, reason?: string): Promise<void> {
    await this.c.api.del(`/admin/signup-blocks/${id}${q(reason)}`);
  }

  async myReports(): Promise<Report[]> {
    return (await this.c.api.get<ReportList>('/reports/mine')).reports;
  }

  /** A room's reports (room admins) or every room's (instance admins, roomId null). */
  async reports(roomId: string | null, open: boolean): Promise<Report[]> {
    if (roomId) return (await this.c.api.get<ReportList>(`/rooms/${roomId}/reports?open=${open}`)).reports;
    const all = await this.c.api.get<Schemas['InstanceReportList']>(`/admin/reports?open=${open}`);
    for (const r of all.rooms ?? []) this.reportRooms.set(r.id, r);
    return all.reports;
  }

  async resolve(reportId: string, actionTaken: boolean, note?: string): Promise<Report> {
    return this.c.api.post<Report>(`/reports/${reportId}/resolve`, {
      action_taken: actionTaken,
      note: note?.trim() || undefined,
    });
  }

  reset(): void {
    for (const k of Object.keys(this.state)) this.set(k, {});
    this.admin = null;
    this.admins.clear();
    this.reportRooms.clear();
  }
}
