// The room's AI switch (members panel): admins turn the assistant on or off; everyone sees
// whether it is on. Hidden when the server has no AI.
import { createSignal, onMount, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { aiFor } from '../../lib/ai';
import { aiErrorMessage } from '../../lib/aiErrors';
import './ai.css';

export function RoomAiSwitch(props: { client: Client; roomId: string }) {
  const c = props.client;
  const ai = aiFor(c);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  // The wanted state while the switch is in flight (the member list catches up after it).
  const [pending, setPending] = createSignal<boolean | null>(null);
  onMount(
    () =>
      void ai
        .load()
        .then(() => ai.refreshRoom(props.roomId))
        .catch(() => {}),
  );
  const shown = () => ai.enabled;
  const on = () => pending() ?? ai.roomEnabled(props.roomId) === true;
  const admin = () => (c.rooms.get(props.roomId)?.my_role ?? 'member') !== 'member';
  const toggle = async (v: boolean) => {
    setBusy(true);
    setPending(v);
    setError('');
    try {
      await ai.setRoomEnabled(props.roomId, v);
    } catch (e) {
      setError(aiErrorMessage(e));
    } finally {
      setPending(null);
      setBusy(false);
    }
  };
  return (
    <Show when={shown()}>
      <Show
        when={admin()}
        fallback={
          <p class="ai-note" data-testid="room-ai-state">
            AI assistant: {on() ? 'on (it can read this room)' : 'off'}
          </p>
        }
      >
        <label class="ai-switch">
          <input
            type="checkbox"
            role="switch"
            checked={on()}
            aria-checked={on()}
            disabled={busy()}
            aria-describedby="room-ai-hint"
            onChange={(e) => void toggle(e.currentTarget.checked)}
          />
          AI assistant in this room
        </label>
        <p class="hint" id="room-ai-hint">
          When on, the assistant joins as a member and members can use @ai, translation, catch-up and smart replies.
        </p>
      </Show>
      <Show when={error()}>
        <p class="ai-error" role="alert">
          {error()}
        </p>
      </Show>
    </Show>
  );
}
