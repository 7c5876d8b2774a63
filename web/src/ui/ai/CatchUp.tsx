// "Catch me up": a private summary of the room's unread messages. The summary covers what the
// server still counts as unread, so while it is on offer the room's read marker is held
// (client.rooms.holdRead) and moved only once the summary was shown or the offer dismissed.
import { createEffect, createSignal, onCleanup, onMount, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { aiFor, type Summary } from '../../lib/ai';
import { aiErrorMessage } from '../../lib/aiErrors';
import { Icon } from '../common/Icon';
import './ai.css';

export function CatchUp(props: { client: Client; roomId: string }) {
  const c = props.client;
  const ai = aiFor(c);
  const hadUnread = c.rooms.unreadFrom.has(props.roomId);
  const [offer, setOffer] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [result, setResult] = createSignal<Summary | null>(null);
  const [error, setError] = createSignal('');
  let panel: HTMLElement | undefined;

  const release = (markRead: boolean) => {
    if (!c.rooms.holdRead.delete(props.roomId)) return;
    if (markRead) c.rooms.focused();
  };

  onMount(() => {
    void ai.load();
    if (!hadUnread) return;
    // Hold before the room's read timer runs; let go at once if AI turns out to be off here.
    c.rooms.holdRead.add(props.roomId);
    void ai
      .load()
      .then(() => (ai.has('summary') ? ai.refreshRoom(props.roomId) : false))
      .catch(() => false)
      .then((on) => {
        if (on && c.rooms.holdRead.has(props.roomId)) setOffer(true);
        else release(true);
      });
  });
  // Leaving the room: nothing was read here, so the marker stays where it was.
  onCleanup(() => c.rooms.holdRead.delete(props.roomId));

  const run = async () => {
    setBusy(true);
    setError('');
    try {
      const s = await ai.summary(props.roomId);
      setResult(s);
      setOffer(false);
      queueMicrotask(() => panel?.focus());
      release(true);
    } catch (e) {
      // Shown in place; the room stays usable and the offer stays for another try.
      setError(aiErrorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const dismiss = () => {
    setOffer(false);
    setError('');
    release(true);
  };
  // Writing in the room means reading it: stop offering and let the marker move.
  const ownAtOpen = c.timelines.get(props.roomId).lastOwn()?.seq ?? 0;
  createEffect(() => {
    if (!offer()) return;
    // Also when an admin switched AI off meanwhile: there is nothing to offer any more.
    if ((c.timelines.get(props.roomId).lastOwn()?.seq ?? 0) > ownAtOpen || ai.roomEnabled(props.roomId) === false)
      dismiss();
  });

  return (
    <>
      <Show when={offer()}>
        <div class="jump-bar" role="group" aria-label="Catch up with AI">
          <button type="button" onClick={run} disabled={busy()} data-testid="catch-up">
            {busy() ? 'Summarising…' : 'Catch me up'}
          </button>
          <button type="button" aria-label="Not now" title="Not now" onClick={dismiss}>
            <Icon name="close" />
          </button>
        </div>
        <Show when={error()}>
          <p class="ai-error" role="alert" data-testid="catch-up-error" style={{ margin: '4px 8px' }}>
            {error()}
          </p>
        </Show>
      </Show>
      <Show when={result()}>
        {(r) => (
          <section
            class="ai-summary"
            ref={panel}
            tabindex="-1"
            aria-labelledby="ai-summary-title"
            data-testid="ai-summary"
          >
            <header>
              <h3 id="ai-summary-title">
                Catch-up: {r().message_count} unread {r().message_count === 1 ? 'message' : 'messages'}
              </h3>
              <button type="button" aria-label="Close summary" title="Close summary" onClick={() => setResult(null)}>
                <Icon name="close" />
              </button>
            </header>
            <p>{r().summary ?? 'Nothing unread to summarise.'}</p>
            <span class="ai-note">Written by AI, only you can see it.</span>
          </section>
        )}
      </Show>
    </>
  );
}
