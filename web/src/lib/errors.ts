// Errors as sentences a person can act on. The server's error codes are stable (docs/openapi.json
// ErrorDetail.code); its messages are terse and lower-case ("wrong username, e-mail or password").
// Known codes get a written sentence; anything else gets the server's message as a sentence.
import { ApiError } from './api';
import { GatewayError } from './gateway';

const SENTENCES: Record<string, string> = {
  network: 'Cannot reach the server. Check your connection and try again.',
  invalid_credentials: 'That username or password is not right. Check both and try again.',
  session_expired: 'Your session has ended. Please log in again.',
  session_revoked: 'This session was signed out. Please log in again.',
  rate_limited: 'Too many attempts in a short time. Wait a moment, then try again.',
  forbidden: 'You are not allowed to do that here.',
  blocked: 'You cannot message this person.',
  banned: 'You are banned from this group.',
  already_member: 'That person is already a member.',
  already_invited: 'That person has already been invited and has not answered yet.',
  room_full: 'This group is full.',
  email_taken: 'That e-mail address is already in use.',
  internal: 'Something went wrong on the server. Please try again.',
  unavailable: 'The server is busy right now. Please try again in a moment.',
  timeout: 'The server took too long to answer. Please try again.',
  payload_too_large: 'That is too large to send.',
  report_open: 'You have already reported this; the moderators have it.',
  mute_not_found: 'That member is not muted.',
};

const NOT_FOUND: Record<string, string> = {
  invite: 'This invite is not valid any more. Ask for a new one.',
  user: 'No such person.',
  room: 'That conversation is not there any more.',
  message: 'That message is not there any more.',
};

/** Capitalised, with a full stop: "username is already taken" → "Username is already taken." */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return 'Something went wrong. Please try again.';
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

/** What to show for a failed action. */
export function friendlyError(e: unknown): string {
  if (e instanceof ApiError || e instanceof GatewayError) {
    if (SENTENCES[e.code]) return SENTENCES[e.code];
    if (e.code === 'not_found') {
      const what = Object.keys(NOT_FOUND).find((k) => e.message.toLowerCase().startsWith(k));
      return what ? NOT_FOUND[what] : sentence(e.message);
    }
    if (e instanceof ApiError && e.status >= 500) return SENTENCES.internal;
    return sentence(e.message);
  }
  if (e instanceof Error) return sentence(e.message);
  return sentence(String(e ?? ''));
}
