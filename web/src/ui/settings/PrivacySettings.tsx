// Settings → Privacy: who may add me to a group without asking (`group_adds`). Everyone else's
// add becomes an invitation I accept or decline. Read from GET /users/me, saved with PATCH.
import { createResource, createSignal, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import type { GroupAdds } from '../../lib/types';

const CHOICES: { value: GroupAdds; label: string }[] = [
  { value: 'anyone', label: 'Anyone' },
  { value: 'shared_room', label: 'People I share a room with' },
  { value: 'nobody', label: 'Nobody' },
];

export function PrivacySettings(props: { client: Client }) {
  const c = props.client;
  const [status, setStatus] = createSignal('');
  const [current, { mutate }] = createResource(() =>
    c.profile.groupAdds().catch((e): GroupAdds | undefined => {
      setStatus(friendlyError(e));
      return undefined;
    }),
  );
  const save = async (v: GroupAdds) => {
    const before = current();
    mutate(v);
    setStatus('Saving…');
    try {
      await c.profile.setGroupAdds(v);
      setStatus('Saved.');
    } catch (e) {
      mutate(before);
      setStatus(friendlyError(e));
    }
  };
  return (
    <>
      <h3>Privacy</h3>
      <label>
        Who can add me to groups
        <select
          value={current() ?? 'anyone'}
          disabled={current.loading}
          onChange={(e) => void save(e.currentTarget.value as GroupAdds)}
          data-testid="group-adds"
        >
          {CHOICES.map((o) => (
            <option value={o.value}>{o.label}</option>
          ))}
        </select>
      </label>
      <p class="hint">
        <Show when={current() && current() !== 'anyone'} fallback="Anyone can add you to a group.">
          Others send an invitation: you accept or decline it.
        </Show>
      </p>
      <p class="hint" role="status" data-testid="group-adds-status">
        {status()}
      </p>
    </>
  );
}
