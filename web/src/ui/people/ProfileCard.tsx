// A person's card, opened from their name or avatar: picture, display name, username, presence,
// "Message" (opens or creates the DM) and block / unblock; for instance admins, "Suspend
// account…". A dialog: focus moves in, Escape closes, focus returns to the name that opened it.
import { createResource, createSignal, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import type { PublicUser } from '../../lib/types';
import { Modal } from '../common/Modal';
import { Avatar } from './Avatar';
import { reportDialog } from '../moderation/report';
import { suspendDialog } from '../moderation/suspend';
import { useNow } from '../moderation/clock';
import { capitalised, lastSeenText } from '../../lib/lastSeen';

const PRESENCE: Record<string, string> = { online: 'Online', idle: 'Away', offline: 'Offline' };

export function ProfileCard(props: {
  client: Client;
  userId: string;
  onClose: () => void;
  onMessage: (roomId: string) => void;
}) {
  const c = props.client;
  const me = () => props.userId === c.me?.id;
  const [user] = createResource(
    () => props.userId,
    async (id) => {
      const known = c.members.users.get(id);
      try {
        // Remembered with when they were last seen (shown while they are offline).
        return (await c.members.loadProfile(id)) as PublicUser;
      } catch {
        return known;
      }
    },
  );
  const [blocked, { mutate }] = createResource(
    () => (me() ? null : props.userId),
    async (id) => (await c.api.get<{ user_ids: string[] }>('/users/me/blocks')).user_ids.includes(id),
  );
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const name = () => {
    // The store first: a user.updated frame renames an open card.
    const u = me() ? c.me : (c.members.users.get(props.userId) ?? user());
    return u?.display_name || u?.username || 'Someone';
  };
  const username = () => (me() ? c.me?.username : (c.members.users.get(props.userId) ?? user())?.username);
  const presence = () => PRESENCE[c.members.presence(props.userId) ?? ''];
  const now = useNow();
  const lastSeen = () => {
    const seen = c.members.lastSeen(props.userId);
    const p = c.members.presence(props.userId);
    return !me() && seen && (!p || p === 'offline') ? capitalised(lastSeenText(seen, now())) : '';
  };
  // Buttons stay enabled while busy (a disabled button would drop the focus out of the dialog).
  const act = async (fn: () => Promise<void>) => {
    if (busy()) return;
    setError('');
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal class="modal profile-card" labelledby="profile-name" onClose={props.onClose}>
      <div class="profile-head">
        <Avatar client={c} userId={props.userId} size={72} presence />
        <div>
          <h2 id="profile-name">{name()}</h2>
          <Show when={username()}>
            <p class="profile-username">@{username()}</p>
          </Show>
          <Show when={presence()}>
            <p class="profile-presence" data-testid="profile-presence">
              {presence()}
            </p>
          </Show>
          <Show when={lastSeen()}>
            <p class="profile-presence" data-testid="profile-last-seen">
              {lastSeen()}
            </p>
          </Show>
        </div>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <div class="row">
        <Show when={!me()}>
          <button
            type="button"
            class="primary"
            disabled={blocked() === true}
            onClick={() => act(async () => props.onMessage(await c.rooms.openDm(props.userId)))}
          >
            Message
          </button>
          <Show when={blocked() !== undefined}>
            <button
              type="button"
              class={blocked() ? '' : 'danger'}
              aria-pressed={blocked() === true}
              onClick={() =>
                act(async () => {
                  if (blocked()) await c.api.del(`/users/${props.userId}/block`);
                  else await c.api.put(`/users/${props.userId}/block`);
                  mutate(!blocked());
                })
              }
            >
              {blocked() ? 'Unblock' : 'Block'}
            </button>
          </Show>
        </Show>
        <Show when={!me() && c.currentRoom}>
          {(roomId) => (
            <button
              type="button"
              onClick={() => {
                const id = props.userId;
                const room = roomId();
                // The report dialog replaces this card (one dialog at a time).
                props.onClose();
                void reportDialog(c, room, { userId: id });
              }}
            >
              Report…
            </button>
          )}
        </Show>
        <Show when={c.moderation.maySuspend(props.userId)}>
          <button
            type="button"
            class="danger"
            onClick={() => {
              const id = props.userId;
              // The suspend dialog replaces this card (one dialog at a time).
              props.onClose();
              void suspendDialog(c, id);
            }}
          >
            Suspend account…
          </button>
        </Show>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
