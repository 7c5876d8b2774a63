// A person's avatar: their uploaded picture (a signed URL, fetched once and cached by the media
// service), else their initials on their own colour; a presence dot when they are online or
// idle. Decorative next to a name (aria-hidden); the name carries the meaning.
import { createResource, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { avatarColour, initials } from '../../lib/avatar';
import { mediaFor } from '../../lib/media';

export function Avatar(props: { client: Client; userId: string; size?: number; presence?: boolean }) {
  const c = props.client;
  const size = () => props.size ?? 32;
  const user = () => (props.userId === c.me?.id ? c.me : c.members.users.get(props.userId));
  const name = () => user()?.display_name || user()?.username || '';
  const [url] = createResource(
    () => user()?.avatar ?? null,
    (mediaId) =>
      mediaFor(c.api)
        .avatarUrl('users', props.userId, mediaId)
        .then((s) => s.url)
        .catch(() => null),
  );
  const status = () => (props.presence ? c.members.presence(props.userId) : undefined);
  return (
    <span
      class="avatar"
      aria-hidden="true"
      data-testid="avatar"
      style={{
        width: `${size()}px`,
        height: `${size()}px`,
        'font-size': `${Math.round(size() * 0.4)}px`,
        background: avatarColour(props.userId),
      }}
    >
      <Show when={user()?.avatar && url()} fallback={initials(name())}>
        <img src={url()!} alt="" width={size()} height={size()} loading="lazy" decoding="async" />
      </Show>
      <Show when={status() === 'online' || status() === 'idle'}>
        <span class={`presence-dot ${status()}`} />
      </Show>
    </span>
  );
}
