// "Suspend account…" (instance admins; a profile card, a member's menu): asks for a reason and,
// optionally, an address range to block sign-ups from, then PUT /admin/suspensions/{id}. The
// dialog stays open on a refusal and says why (a bad range next to its field; an instance admin
// cannot be suspended, and the action is not offered on them again).
import { ApiError } from '../../lib/api';
import type { Client } from '../../lib/client';
import { instanceBanError } from '../../lib/moderation';
import { showToast } from '../common/toast';
import { askReason } from './ReasonDialog';

export async function suspendDialog(
  c: Client,
  userId: string,
  returnFocus?: () => HTMLElement | null | undefined,
): Promise<boolean> {
  const who = c.members.displayName(userId);
  const r = await askReason({
    title: `Suspend ${who}’s account?`,
    body: 'Their sessions end at once and they cannot sign in until reinstated (Settings → Suspended accounts). Their messages stay.',
    confirm: 'Suspend account',
    destructive: true,
    returnFocus,
    extra: {
      label: 'Also block sign-ups from (optional)',
      hint: 'An address range (203.0.113.0/24) or one address.',
      placeholder: '203.0.113.0/24',
    },
    action: (a) => c.moderation.suspend(userId, a.reason, a.extra),
    errorText: (e) => {
      if (e instanceof ApiError && e.code === 'cannot_suspend_admin') c.moderation.noteAdmin(userId);
      return instanceBanError(e);
    },
  });
  if (!r) return false;
  showToast(
    r.extra
      ? `${who}’s account is suspended and sign-ups from ${r.extra} are blocked.`
      : `${who}’s account is suspended.`,
  );
  return true;
}
