// How long the room keeps messages (members panel): admins choose (the server's policy, or
// fewer days); everyone sees what applies.
import { createSignal, For, onMount, Show } from 'solid-js';
import { aiFor } from '../../lib/ai';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { effectiveRetention, RETENTION_CHOICES, retentionLabel } from '../../lib/retention';

export function RetentionSetting(props: { client: Client; roomId: string }) {
  const c = props.client;
  const room = () => c.rooms.get(props.roomId);
  const server = () => aiFor(c).config.retention_days ?? null;
  const admin = () => (room()?.my_role ?? 'member') !== 'member';
  const applies = () => effectiveRetention(room()?.retention_days, server());
  onMount(
    () =>
      void aiFor(c)
        .load()
        .catch(() => {}),
  );
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const choose = async (value: string) => {
    setBusy(true);
    setError('');
    try {
      await c.api.patch(`/rooms/${props.roomId}`, { retention_days: value === '' ? null : Number(value) });
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  };
  const choiceLabel = (d: number | null) =>
    d === null
      ? server() === null
        ? 'Keep messages forever'
        : `Server policy (${retentionLabel(server()!)})`
      : `Delete after ${retentionLabel(d)}`;
  return (
    <div class="retention-setting">
      <Show
        when={admin()}
        fallback={
          <p data-testid="retention-state">
            {applies() === null ? 'Messages are kept.' : `Messages disappear after ${retentionLabel(applies()!)}.`}
          </p>
        }
      >
        <label>
          Keep messages{' '}
          <select
            value={room()?.retention_days?.toString() ?? ''}
            disabled={busy()}
            onChange={(e) => void choose(e.currentTarget.value)}
          >
            <For each={RETENTION_CHOICES.filter((d) => d === null || server() === null || d <= server()!)}>
              {(d) => <option value={d === null ? '' : String(d)}>{choiceLabel(d)}</option>}
            </For>
          </select>
        </label>
      </Show>
      <Show when={error()}>
        <p role="alert" class="error">
          {error()}
        </p>
      </Show>
    </div>
  );
}
