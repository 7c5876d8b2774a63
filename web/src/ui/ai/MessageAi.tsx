// AI parts of a message row: the assistant's badge and streamed body, the Translate action and
// the translation shown under the original. Rows are kept across updates: everything here reads
// the AI service's signals (per message stream, per translation, per room switch) to stay current.
import { createEffect, Show, type JSX } from 'solid-js';
import type { Client } from '../../lib/client';
import type { Message } from '../../lib/types';
import { aiFor } from '../../lib/ai';
import { botBody } from '../../lib/aiStream';
import { showsTranslation, type Translation } from '../../lib/aiTranslate';
import { TranslateIcon } from './AiIcon';
import './ai.css';

type RowProps = { client: Client; roomId: string; message: Message };

const languageName = (code: string) => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
};

/** "AI" next to the assistant's name. */
export function AiBadge(props: { client: Client; userId: string }) {
  const ai = aiFor(props.client);
  return (
    <Show when={ai.isBot(props.userId)}>
      <span class="ai-badge" title="AI assistant (a bot)" data-testid="ai-badge">
        AI<span class="sr-only"> assistant</span>
      </span>
    </Show>
  );
}

/** The assistant's answer while it is written (deltas + caret); otherwise the normal body. */
export function AiBody(props: RowProps & { children: JSX.Element }) {
  const ai = aiFor(props.client);
  const view = () => {
    if (!ai.isBot(props.message.sender_id)) return null;
    const v = botBody(props.message, ai.preview(props.message));
    return v.streaming ? v : null;
  };
  return (
    <Show when={view()} fallback={props.children}>
      {(v) => (
        <div class="ai-stream" data-testid="ai-streaming" aria-busy="true">
          <span>{v().text}</span>
          <span class="ai-caret" aria-hidden="true" />
          <span class="sr-only">{v().text ? '' : 'The assistant is writing…'}</span>
        </div>
      )}
    </Show>
  );
}

/** Whether to mark a message "(edited)": not the assistant's, whose final answer is an edit. */
export function showsEdited(client: Client, m: Message): boolean {
  return !!m.edited_at && !aiFor(client).isBot(m.sender_id);
}

/** Whether the Translate action applies to a message. */
function translatable(props: RowProps): boolean {
  const ai = aiFor(props.client);
  const m = props.message;
  return (
    ai.has('translate') &&
    ai.roomEnabled(props.roomId) === true &&
    !m.deleted_at &&
    m.sender_id !== props.client.me?.id &&
    !ai.isBot(m.sender_id) &&
    m.body.trim() !== ''
  );
}

/** The toolbar button: translate into the preferred language (shown again after "Show original"). */
export function TranslateButton(props: RowProps) {
  const ai = aiFor(props.client);
  const shown = () => {
    if (!translatable(props)) return false;
    const s = ai.translationState(props.message);
    return !s || s.status === 'hidden' || s.status === 'error';
  };
  return (
    <Show when={shown()}>
      <button
        type="button"
        aria-label="Translate"
        title={`Translate to ${languageName(ai.targetLanguage())}`}
        onClick={() => ai.showTranslation(props.roomId, props.message)}
      >
        <TranslateIcon />
      </button>
    </Show>
  );
}

/** Under the original: the translation with "Show original", progress, or the failure. */
export function TranslationBlock(props: RowProps) {
  const ai = aiFor(props.client);
  // Auto-translation: only rows on screen ask (the list is windowed), once per message version.
  createEffect(() => {
    if (!ai.translationState(props.message) && ai.autoTranslates(props.roomId, props.message)) {
      ai.showTranslation(props.roomId, props.message);
    }
  });
  const state = () => (translatable(props) ? ai.translationState(props.message) : undefined);
  return (
    <Show when={state()}>
      {(s) => (
        <>
          <Show when={s().status === 'loading'}>
            <p class="ai-note" role="status">
              Translating…
            </p>
          </Show>
          <Show when={s().status === 'error' && s()}>
            {(e) => (
              <p class="ai-error" role="alert" data-testid="translation-error">
                Translation failed: {(e() as { message: string }).message}
              </p>
            )}
          </Show>
          <Show when={s().status === 'done' && s()}>
            {(d) => {
              const t = () => (d() as { translation: Translation }).translation;
              return (
                <Show
                  when={showsTranslation(props.message.body, t())}
                  fallback={
                    <p class="ai-note">
                      Already in {languageName(t().lang)}.{' '}
                      <button type="button" class="ai-inline-btn" onClick={() => ai.hideTranslation(props.message)}>
                        Hide
                      </button>
                    </p>
                  }
                >
                  <div class="ai-translation" data-testid="translation" lang={t().lang}>
                    <span class="ai-label">Translated to {languageName(t().lang)} by AI</span>
                    <p>{t().text}</p>
                    <button type="button" class="ai-inline-btn" onClick={() => ai.hideTranslation(props.message)}>
                      Show original
                    </button>
                  </div>
                </Show>
              );
            }}
          </Show>
        </>
      )}
    </Show>
  );
}
