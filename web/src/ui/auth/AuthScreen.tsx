import { createSignal, Show } from 'solid-js';
import { ApiError } from '../../lib/api';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';

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
 * Log in or create an account. Opened from an invite link, it says so (the invite's group is not
 * named: the server shows an invite only to someone signed in) and starts on "Create account";
 * either way the invite is accepted once signed in and the app opens in that group.
 */
export function AuthScreen(props: { client: Client; invited?: boolean }) {
  const [mode, setMode] = createSignal<'login' | 'register'>(props.invited ? 'register' : 'login');
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
      <Show when={props.invited}>
        <section class="invited" aria-labelledby="invited-title" data-testid="invited">
          <h2 id="invited-title">You’ve been invited to a group</h2>
          <p>Create an account or log in, and you will join it right away.</p>
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
