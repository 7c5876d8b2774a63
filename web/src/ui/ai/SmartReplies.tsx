// Smart replies: on request, up to three short replies to the last message someone else wrote;
// a click puts one in the composer (it is not sent: the user can edit it first).
import { createSignal, For, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { aiFor } from '../../lib/ai';
import { aiErrorMessage } from '../../lib/aiErrors';
import './ai.css';

/** Put text in the composer (an uncontrolled textarea) and hand it the focus. */
export function fillComposer(text: string): void {
  const ta = document.getElementById('composer-input') as HTMLTextAreaElement | null;
  if (!ta) return;
  ta.value = text;
  ta.dispatchEvent(new Event('input', { bubbles: true }));
  ta.focus();
  ta.setSelectionRange(text.length, text.length);
}

export function SmartReplies(props: { client: Client; roomId: string }) {
  const ai = aiFor(props.client);
  void ai.load();
  const [busy, setBusy] = createSignal(false);
  const [chips, setChips] = createSignal<string[] | null>(null);
  const [error, setError] = createSignal('');
  const on = () => ai.has('suggestions') && ai.roomEnabled(props.roomId) === true;

  const ask = async () => {
    setBusy(true);
    setError('');
    try {
      const s = await ai.suggestions(props.roomId);
      setChips(s.suggestions);
    } catch (e) {
      setChips(null);
      setError(aiErrorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const pick = (text: string) => {
    setChips(null);
    fillComposer(text);
  };

  return (
    <Show when={on()}>
      <div class="ai-replies" role="group" aria-label="Smart replies" data-testid="smart-replies">
        <Show
          when={chips()}
          fallback={
            <button type="button" class="ai-inline-btn" onClick={ask} disabled={busy()}>
              {busy() ? 'Thinking…' : 'Suggest replies'}
            </button>
          }
        >
          {(list) => (
            <Show
              when={list().length}
              fallback={
                <span class="ai-note">
                  No suggestions.{' '}
                  <button type="button" class="ai-inline-btn" onClick={() => setChips(null)}>
                    OK
                  </button>
                </span>
              }
            >
              <For each={list()}>
                {(s) => (
                  <button type="button" class="ai-chip" data-testid="smart-reply" title={s} onClick={() => pick(s)}>
                    {s}
                  </button>
                )}
              </For>
              <button
                type="button"
                class="ai-inline-btn"
                aria-label="Dismiss suggestions"
                onClick={() => setChips(null)}
              >
                Dismiss
              </button>
            </Show>
          )}
        </Show>
        <Show when={error()}>
          <span class="ai-error" role="alert" data-testid="smart-replies-error">
            {error()}
          </span>
        </Show>
      </div>
    </Show>
  );
}
