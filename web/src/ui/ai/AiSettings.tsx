// Settings: translate incoming messages automatically (stored on the server with the
// preferred language). Hidden when the server has no AI.
import { createSignal, onMount, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { aiFor } from '../../lib/ai';
import { aiErrorMessage } from '../../lib/aiErrors';
import './ai.css';

export function AiSettings(props: { client: Client }) {
  const ai = aiFor(props.client);
  const [error, setError] = createSignal('');
  onMount(() => void ai.load());
  const set = async (v: boolean) => {
    setError('');
    try {
      await ai.setPrefs({ auto_translate: v });
    } catch (e) {
      setError(aiErrorMessage(e));
    }
  };
  return (
    <Show when={ai.enabled}>
      <label class="ai-switch">
        <input
          type="checkbox"
          role="switch"
          checked={ai.prefs.auto_translate}
          aria-checked={ai.prefs.auto_translate}
          onChange={(e) => void set(e.currentTarget.checked)}
        />
        Translate messages into my preferred language automatically (in rooms with AI on)
      </label>
      <Show when={error()}>
        <p class="ai-error" role="alert">
          {error()}
        </p>
      </Show>
    </Show>
  );
}
