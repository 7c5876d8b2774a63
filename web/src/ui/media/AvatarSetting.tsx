// "Profile picture" (or a group's picture): pick an image, crop it, upload it, and set it with
// PATCH (the field is in lib/mediaAvatar, checked against the generated OpenAPI types).
import { createSignal, Show } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import type { Client } from '../../lib/client';
import { mediaFor } from '../../lib/media';
import { avatarPatch } from '../../lib/mediaAvatar';
import type { Me } from '../../lib/types';
import { friendlyError } from '../../lib/errors';

type Crop = typeof import('./CropDialog').default;

export function AvatarSetting(props: { client: Client; target: 'user' | 'room'; roomId?: string }) {
  const c = props.client;
  const [file, setFile] = createSignal<File | null>(null);
  const [dialog, setDialog] = createSignal<Crop>();
  const [status, setStatus] = createSignal('');
  let input!: HTMLInputElement;
  const chosen = async () => {
    const f = input.files?.[0];
    input.value = '';
    if (!f) return;
    const m = await import('./CropDialog');
    setDialog(() => m.default);
    setFile(f);
  };
  const done = async (png: Blob | null) => {
    setFile(null);
    if (!png) return;
    setStatus('Uploading…');
    try {
      const media = await mediaFor(c.api).upload(png, 'avatar.png');
      if (props.target === 'user') c.session.setMe(await c.api.patch<Me>('/users/me', avatarPatch(media.id)));
      else await c.api.patch(`/rooms/${props.roomId}`, avatarPatch(media.id));
      setStatus('Picture saved.');
    } catch (e) {
      setStatus(friendlyError(e));
    }
  };
  const label = props.target === 'user' ? 'Profile picture' : 'Group picture';
  return (
    <div class="avatar-setting">
      <input
        ref={input}
        type="file"
        accept="image/jpeg,image/png,image/webp,image/gif"
        class="media-file-input"
        aria-label="Choose a picture"
        onChange={() => void chosen()}
      />
      <button type="button" onClick={() => input.click()}>
        {label}…
      </button>
      <Show when={status()}>
        <span class="att-meta" role="status">
          {status()}
        </span>
      </Show>
      <Show when={file()}>
        <Dynamic component={dialog()} file={file()!} title={label} onDone={(b: Blob | null) => void done(b)} />
      </Show>
    </div>
  );
}
