// "Report…" (a message's actions, a member's menu, a profile card): asks what is wrong (required),
// sends it, and says so in a toast ("already reported" included).
import { ApiError } from '../../lib/api';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { showToast } from '../common/toast';
import { askReason } from './ReasonDialog';

export async function reportDialog(
  c: Client,
  roomId: string,
  target: { userId: string; messageId?: undefined } | { messageId: string; userId?: undefined },
  returnFocus?: () => HTMLElement | null | undefined,
): Promise<void> {
  const who = target.userId ? c.members.displayName(target.userId) : '';
  const r = await askReason({
    title: target.messageId ? 'Report this message?' : `Report ${who}?`,
    body: 'The group’s admins and the server’s moderators see your report. You can follow it in Settings → My reports.',
    reasonLabel: 'What is wrong?',
    required: true,
    maxLength: 1000,
    confirm: 'Send report',
    returnFocus,
  });
  if (!r) return;
  try {
    await c.moderation.report({
      room_id: roomId,
      message_id: target.messageId,
      user_id: target.userId,
      reason: r.reason,
    });
    showToast('Report sent. Thank you — the moderators will look at it.');
  } catch (e) {
    showToast(
      e instanceof ApiError && e.code === 'report_open'
        ? 'You have already reported this; it is still open.'
        : friendlyError(e),
    );
  }
}
