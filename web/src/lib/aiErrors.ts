// AI failures mapped to short, clear sentences shown where the AI answer would have been.
// Codes come from crates/server/src/api/ai.rs (the `AI_ERRORS` list) and the network layer.
import { ApiError } from './api';

const MESSAGES: Record<string, string> = {
  ai_disabled: 'AI is not available on this server.',
  ai_not_enabled: 'AI is off in this room. A room admin can switch it on.',
  ai_budget_exceeded: 'The AI limit for today is used up. Try again tomorrow.',
  ai_busy: 'The AI is busy right now. Try again in a moment.',
  ai_rate_limited: 'The AI provider is rate limiting requests. Try again in a moment.',
  ai_unavailable: 'The AI provider is not answering. Try again later.',
  ai_timeout: 'The AI took too long to answer. Try again.',
  ai_upstream_error: 'The AI provider failed. Try again later.',
  no_language: 'Choose a preferred language in Settings first.',
  invalid_language: 'That language is not recognised.',
  network: 'You are offline. Try again when connected.',
};

/** A one-line explanation of why an AI request failed. */
export function aiErrorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    const known = MESSAGES[e.code];
    if (known) return known;
    if (e.status >= 500) return 'The AI request failed on the server. Try again later.';
    return e.message || 'The AI request failed.';
  }
  return 'The AI request failed.';
}
