// Settings' instance section (instance admins): the suspended accounts (name, username, since;
// Reinstate…) and the sign-up blocks (range, reason, who and when; Remove…; a form to add one,
// the server's refusal shown next to the range field).
import { createResource, createSignal, For, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { instanceBanError } from '../../lib/moderation';
import { showToast } from '../common/toast';
import { askReason } from './ReasonDialog';
import './moderation.css';

const when = (iso: string) => new Date(iso).toLocaleString();

export function SuspendedAccounts(props: { client: Client; onChange?: () => void }) {
  const c = props.client;
  const [list, { refetch }] = createResource(() => c.moderation.suspended());
  const [error, setError] = createSignal('');
  const reinstate = async (id: string, name: string) => {
    const r = await askReason({
      title: `Reinstate ${name}?`,
      body: 'They can sign in again (their old sessions stay ended).',
      confirm: 'Reinstate',
    });
    if (!r) return;
    setError('');
    try {
      await c.moderation.reinstate(id, r.reason);
      showToast(`${name} can sign in again.`);
      props.onChange?.();
      await refetch();
    } catch (e) {
      setError(friendlyError(e));
    }
  };
  return (
    <div class="instance-bans">
      <Show when={error() || list.error}>
        <p class="error" role="alert">
          {error() || friendlyError(list.error)}
        </p>
      </Show>
      <div class="row">
        <button type="button" onClick={() => void refetch()} disabled={list.loading}>
          Refresh
        </button>
      </div>
      <ul class="mod-list" aria-label="Suspended accounts" data-testid="suspended-list">
        <For
          each={list() ?? []}
          fallback={<li class="empty">{list.loading ? 'Loading…' : 'No account is suspended.'}</li>}
        >
          {(u) => {
            const name = u.display_name || u.username;
            return (
              <li data-testid="suspended">
                <span>
                  {name} <small>@{u.username}</small>
                </span>
                <time dateTime={u.suspended_at}>Suspended since {when(u.suspended_at)}</time>
                <button type="button" aria-label={`Reinstate ${name}`} onClick={() => void reinstate(u.id, name)}>
                  Reinstate…
                </button>
              </li>
            );
          }}
        </For>
      </ul>
    </div>
  );
}

export function SignupBlocks(props: { client: Client; onChange?: () => void }) {
  const c = props.client;
  const [list, { refetch }] = createResource(async () => {
    const blocks = await c.moderation.signupBlocks();
    await Promise.all(
      [...new Set(blocks.map((b) => b.created_by))].map((id) => c.members.ensureUser(id).catch(() => {})),
    );
    return blocks;
  });
  const [error, setError] = createSignal('');
  const [rangeError, setRangeError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  let range!: HTMLInputElement;
  let reason!: HTMLInputElement;
  const add = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    const cidr = range.value.trim();
    if (!cidr) {
      setRangeError('Give an address range (203.0.113.0/24) or one address.');
      range.focus();
      return;
    }
    setBusy(true);
    setError('');
    setRangeError('');
    try {
      const b = await c.moderation.blockSignups(cidr, reason.value);
      showToast(`Sign-ups from ${b.cidr} are blocked.`);
      range.value = '';
      reason.value = '';
      props.onChange?.();
      await refetch();
    } catch (x) {
      const m = instanceBanError(x);
      if (m.extra) {
        setRangeError(m.text);
        range.focus();
      } else setError(m.text);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: string, cidr: string) => {
    const r = await askReason({
      title: `Remove the block on ${cidr}?`,
      body: 'People can sign up from this range again.',
      confirm: 'Remove block',
    });
    if (!r) return;
    setError('');
    try {
      await c.moderation.unblockSignups(id, r.reason);
      showToast(`Sign-ups from ${cidr} are open again.`);
      props.onChange?.();
      await refetch();
    } catch (x) {
      setError(friendlyError(x));
    }
  };
  return (
    <div class="instance-bans">
      <form class="signup-block-form" aria-label="Block sign-ups" onSubmit={(e) => void add(e)}>
        <label>
          Range
          <input
            ref={range}
            name="cidr"
            placeholder="203.0.113.0/24"
            autocomplete="off"
            aria-invalid={!!rangeError()}
            aria-describedby="signup-block-range-note"
            onInput={() => setRangeError('')}
          />
          <span
            id="signup-block-range-note"
            class={rangeError() ? 'error' : 'hint'}
            role={rangeError() ? 'alert' : undefined}
            data-testid="signup-block-range-note"
          >
            {rangeError() || 'An address range in CIDR notation, or one address.'}
          </span>
        </label>
        <label>
          Reason (optional)
          <input ref={reason} name="reason" maxLength={500} autocomplete="off" />
        </label>
        <button type="submit" aria-disabled={busy()}>
          Block sign-ups
        </button>
      </form>
      <Show when={error() || list.error}>
        <p class="error" role="alert">
          {error() || friendlyError(list.error)}
        </p>
      </Show>
      <ul class="mod-list" aria-label="Sign-up blocks" data-testid="signup-block-list">
        <For each={list() ?? []} fallback={<li class="empty">{list.loading ? 'Loading…' : 'No sign-up blocks.'}</li>}>
          {(b) => (
            <li data-testid="signup-block">
              <span>
                <code>{b.cidr}</code>
                {b.reason ? ` — ${b.reason}` : ''}
              </span>
              <time dateTime={b.created_at}>
                Blocked by {c.members.displayName(b.created_by)}, {when(b.created_at)}
              </time>
              <button
                type="button"
                aria-label={`Remove the block on ${b.cidr}`}
                onClick={() => void remove(b.id, b.cidr)}
              >
                Remove…
              </button>
            </li>
          )}
        </For>
      </ul>
    </div>
  );
}
