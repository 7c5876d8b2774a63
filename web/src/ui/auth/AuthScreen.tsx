import { createResource, createSignal, Show } from 'solid-js';
import { ApiError, enc } from '../../lib/api';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import type { InviteView } from '../../lib/types';

/** "You're invited to Book club (4 members)" (a group without a name: "a group"). */
export function inviteHeading(v: Pick<InviteView, 'room_name' | 'member_count'>): string {
  const n = v.member_count;
  return `You’re invited to ${v.room_name || 'a group'} (${n} ${n === 1 ? 'member' : 'members'})`;
}

/** Refusals met at the door, said plainly (the server's own words for the rest). */
export function authError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'account_suspended')
      return 'This account has been suspended by the server’s administrators. You cannot sign in.';
    if (e.code === 'signup_blocked') return 'Sign-ups from your network are closed on this server.';
  }
  return friendlyError(e);
}

/**
 * Log in or create an account. Opened from an invite link, it names the group and its size
 * (GET /invites/{code} needs no account) and starts on "Create account"; either way the invite is
 * accepted once signed in and the app opens in that group. An invite the server no longer knows
 * is said so (signing in still works).
 */
export function AuthScreen(props: { client: Client; invite?: string | null }) {
  const [mode, setMode] = createSignal<'login' | 'register'>(props.invite ? 'register' : 'login');
  const [preview] = createResource(
    () => props.invite || null,
    async (code): Promise<InviteView | 'gone' | null> => {
      try {
        return await props.client.api.request<InviteView>('GET', `/invites/${enc(code)}`, undefined, false);
      } catch (e) {
        return e instanceof ApiError && (e.status === 404 || e.status === 410) ? 'gone' : null;
      }
    },
  );
  const known = () => {
    const p = preview();
    return p && p !== 'gone' ? p : null;
  };
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  let user!: HTMLInputElement, pass!: HTMLInputElement, display!: HTMLInputElement;
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      if (mode() === 'login') await props.client.session.login(user.value.trim(), pass.value);
      else await props.client.session.register(user.value.trim(), pass.value, display?.value.trim());
    } catch (err) {
      setError(authError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="auth">
      <h1>
        <img src="/icons/icon-192.png" alt="" width="36" height="36" />
        JustUs
      </h1>
      <p class="tagline">Chat with the people you know, on a server you trust.</p>
      <Show when={props.invite}>
        <section class="invited" aria-labelledby="invited-title" data-testid="invited" aria-busy={preview.loading}>
          <Show
            when={preview() !== 'gone'}
            fallback={
              <>
                <h2 id="invited-title">This invite link is no longer valid</h2>
                <p>It may have expired or been used up. You can still log in or create an account.</p>
              </>
            }
          >
            <h2 id="invited-title">{known() ? inviteHeading(known()!) : 'You’ve been invited to a group'}</h2>
            <p>Create an account or log in, and you will join it right away.</p>
          </Show>
        </section>
      </Show>
      <div class="tabs" role="tablist" aria-label="Account">
        <button type="button" role="tab" aria-selected={mode() === 'login'} onClick={() => setMode('login')}>
          Log in
        </button>
        <button type="button" role="tab" aria-selected={mode() === 'register'} onClick={() => setMode('register')}>
          Create account
        </button>
      </div>
      <form onSubmit={submit} aria-label={mode() === 'login' ? 'Log in' : 'Create account'}>
        <label>
          {mode() === 'login' ? 'Username or email' : 'Username'}
          <input ref={user} name="username" autocomplete="username" required autofocus />
        </label>
        <Show when={mode() === 'register'}>
          <label>
            Display name (optional)
            <input ref={display} name="display_name" autocomplete="nickname" />
          </label>
        </Show>
        <label>
          Password
          <input
            ref={pass}
            name="password"
            type="password"
            minLength={8}
            required
            autocomplete={mode() === 'login' ? 'current-password' : 'new-password'}
          />
        </label>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary" disabled={busy()}>
          {mode() === 'login' ? 'Log in' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
