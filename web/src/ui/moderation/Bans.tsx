// The people banned from a group, with Unban (and an optional reason). Names come from the users
// the client knows, else GET /users/{id}.
import { createResource, createSignal, For, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { showToast } from '../common/toast';
import { askReason } from './ReasonDialog';

export function Bans(props: { client: Client; roomId: string }) {
  const c = props.client;
  // Reloaded when the member list changes (a ban removes a member).
  const [bans, { refetch }] = createResource(
    () => ({ room: props.roomId, n: c.members.get(props.roomId)?.length ?? 0 }),
    async ({ room }) => {
      const ids = await c.moderation.bans(room);
      await Promise.all(ids.map((id) => c.members.ensureUser(id).catch(() => {})));
      return ids;
    },
  );
  const [error, setError] = createSignal('');
  const name = (id: string) => c.members.displayName(id);
  const unban = async (id: string) => {
    const r = await askReason({
      title: `Unban ${name(id)}?`,
      body: 'They can be added to the group again.',
      confirm: 'Unban',
    });
    if (!r) return;
    setError('');
    try {
      await c.moderation.unban(props.roomId, id, r.reason);
      showToast(`${name(id)} is no longer banned.`);
      await refetch();
    } catch (e) {
      setError(friendlyError(e));
    }
  };
  return (
    <div class="bans">
      <Show when={error() || bans.error}>
        <p class="error" role="alert">
          {error() || friendlyError(bans.error)}
        </p>
      </Show>
      <ul class="mod-list" aria-label="Banned people" data-testid="ban-list">
        <For each={bans() ?? []} fallback={<li class="empty">{bans.loading ? 'Loading…' : 'No one is banned.'}</li>}>
          {(id) => {
            const u = () => c.members.users.get(id);
            return (
              <li data-testid="banned">
                <span>
                  {name(id)}
                  <Show when={u()?.username}>
                    {' '}
                    <small>@{u()!.username}</small>
                  </Show>
                </span>{' '}
                <button type="button" aria-label={`Unban ${name(id)}`} onClick={() => void unban(id)}>
                  Unban
                </button>
              </li>
            );
          }}
        </For>
      </ul>
    </div>
  );
}
