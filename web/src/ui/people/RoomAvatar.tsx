// A room's picture: a DM shows the other person's avatar (with their presence), a group its
// uploaded picture or the initials of its name on a colour from its id.
import { createResource, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { avatarColour, initials } from '../../lib/avatar';
import { mediaFor } from '../../lib/media';
import type { Room } from '../../lib/types';
import { Avatar } from './Avatar';

export function RoomAvatar(props: { client: Client; room: Room; size?: number }) {
  const c = props.client;
  const size = () => props.size ?? 32;
  const [url] = createResource(
    () => (props.room.kind === 'group' ? props.room.avatar : null),
    (mediaId) =>
      mediaFor(c.api)
        .avatarUrl('rooms', props.room.id, mediaId)
        .then((s) => s.url)
        .catch(() => null),
  );
  return (
    <Show
      when={props.room.kind === 'dm' && props.room.dm_peer}
      fallback={
        <span
          class="avatar room-avatar"
          aria-hidden="true"
          style={{
            width: `${size()}px`,
            height: `${size()}px`,
            'font-size': `${Math.round(size() * 0.4)}px`,
            background: avatarColour(props.room.id),
          }}
        >
          <Show when={url()} fallback={initials(c.rooms.title(props.room))}>
            <img src={url()!} alt="" width={size()} height={size()} loading="lazy" decoding="async" />
          </Show>
        </span>
      }
    >
      {(peer) => <Avatar client={c} userId={peer().id} size={size()} presence />}
    </Show>
  );
}
