// Invitations to groups, above the room list: the group's picture and name, who invited me,
// how many are in it, Accept (joins and opens the group) and Decline (drops the invitation).
import { createResource, createSignal, For, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { avatarColour, initials } from '../../lib/avatar';
import { friendlyError } from '../../lib/errors';
import { mediaFor } from '../../lib/media';
import type { Invitation } from '../../lib/types';

const groupName = (i: Invitation) => i.room_name?.trim() || 'Unnamed group';

export function Invitations(props: { client: Client; onOpenRoom: (id: string) => void }) {
  const c = props.client;
  const list = () => c.invitations.list();
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal<string | null>(null);
  const run = async (roomId: string, fn: () => Promise<unknown>) => {
    setError('');
    setBusy(roomId);
    try {
      await fn();
    } catch (e) {
      setError(friendlyError(e));
      void c.invitations.load().catch(() => {});
    } finally {
      setBusy(null);
    }
  };
  return (
    <Show when={list().length}>
      <section class="invitations" aria-labelledby="invitations-head" data-testid="invitations">
        <h2 id="invitations-head" class="invitations-head">
          Invitations ({list().length})
        </h2>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <ul>
          <For each={list()}>
            {(i) => {
              const who = () => (i.invited_by ? i.invited_by.display_name || i.invited_by.username : null);
              return (
                <li class="invitation" data-testid="invitation" aria-label={`Invitation to ${groupName(i)}`}>
                  <InvitationAvatar client={c} invitation={i} />
                  <div class="invitation-text">
                    <strong class="room-name">{groupName(i)}</strong>
                    <small>
                      {who() ? `${who()} invited you` : 'You were invited'} · {i.member_count}{' '}
                      {i.member_count === 1 ? 'member' : 'members'}
                    </small>
                  </div>
                  <div class="invitation-actions">
                    <button
                      type="button"
                      class="primary"
                      disabled={busy() === i.room_id}
                      aria-label={`Accept the invitation to ${groupName(i)}`}
                      onClick={() =>
                        void run(i.room_id, async () => props.onOpenRoom(await c.invitations.accept(i.room_id)))
                      }
                    >
                      Accept
                    </button>
                    <button
                      type="button"
                      disabled={busy() === i.room_id}
                      aria-label={`Decline the invitation to ${groupName(i)}`}
                      onClick={() => void run(i.room_id, () => c.invitations.decline(i.room_id))}
                    >
                      Decline
                    </button>
                  </div>
                </li>
              );
            }}
          </For>
        </ul>
      </section>
    </Show>
  );
}

function InvitationAvatar(props: { client: Client; invitation: Invitation }) {
  const i = props.invitation;
  // Not a member yet: the picture may not be served to me; the initials stand in.
  const [url] = createResource(
    () => i.room_avatar,
    (mediaId) =>
      mediaFor(props.client.api)
        .avatarUrl('rooms', i.room_id, mediaId)
        .then((s) => s.url)
        .catch(() => null),
  );
  return (
    <span class="avatar room-avatar" aria-hidden="true" style={{ background: avatarColour(i.room_id) }}>
      <Show when={url()} fallback={initials(groupName(i))}>
        <img src={url()!} alt="" width={36} height={36} loading="lazy" decoding="async" />
      </Show>
    </span>
  );
}
