// What a room with no messages yet says: a new group offers its invite link and adding people
// (to those its permissions.invite lets); a member of it, or a new DM, is told to say hello.
import { createSignal, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { canDo } from '../../lib/moderation';
import type { Room } from '../../lib/types';

export function RoomEmpty(props: { client: Client; room: Room; onMembers: () => void }) {
  const c = props.client;
  const [link, setLink] = createSignal('');
  const [status, setStatus] = createSignal('');
  const admin = () => canDo(props.room, 'invite');
  const createLink = async () => {
    setStatus('');
    try {
      const i = await c.rooms.createInvite(props.room.id);
      setLink(`${location.origin}/invite/${i.code}`);
    } catch (e) {
      setStatus(friendlyError(e));
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link());
      setStatus('Link copied.');
    } catch {
      setStatus('Copy the link above by hand (the browser did not allow copying).');
    }
  };
  return (
    <div class="room-empty" data-testid="room-empty">
      <Show
        when={props.room.kind === 'group'}
        fallback={
          <>
            <h3>This is the start of your conversation with {c.rooms.title(props.room)}</h3>
            <p>Say hello — messages are delivered the moment you send them, and wait for you when you are offline.</p>
          </>
        }
      >
        <h3>{c.rooms.title(props.room)} is ready</h3>
        <Show when={admin()} fallback={<p>No messages yet. Say hello to the group.</p>}>
          <p>Invite people with a link, or add them by name.</p>
          <div class="empty-actions">
            <Show
              when={link()}
              fallback={
                <button type="button" class="primary" onClick={() => void createLink()}>
                  Get invite link
                </button>
              }
            >
              <label class="invite-link">
                Invite link
                <input
                  readonly
                  value={link()}
                  data-testid="empty-invite-link"
                  onFocus={(e) => e.currentTarget.select()}
                />
              </label>
              <button type="button" class="primary" onClick={() => void copy()}>
                Copy link
              </button>
            </Show>
            <button type="button" onClick={props.onMembers}>
              Add people
            </button>
          </div>
        </Show>
        <p class="hint" role="status">
          {status()}
        </p>
      </Show>
    </div>
  );
}
