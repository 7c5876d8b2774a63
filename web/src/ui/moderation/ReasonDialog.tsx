// The dialog moderation actions ask through: a reason (optional, or required for a report), and
// for a mute how long (a few choices or a custom amount). Like askConfirm (common/confirm.tsx):
// one at a time, in the app's modal shell; resolves null on Cancel or Escape. An `extra` field
// asks for one more line (a suspension's "Also block sign-ups from"); with `action` the dialog
// stays open until it succeeds, showing the server's refusal (next to the extra field when
// `extraError` says it is about that field).
import { createSignal, For, Show } from 'solid-js';
import { friendlyError } from '../../lib/errors';
import { parseDuration } from '../../lib/moderation';
import { Modal } from '../common/Modal';
import './moderation.css';

export interface DurationChoice {
  value: number;
  label: string;
}

export interface ReasonOptions {
  title: string;
  body?: string;
  confirm: string;
  destructive?: boolean;
  /** "Reason (optional)" by default; a report says "What is wrong?". */
  reasonLabel?: string;
  required?: boolean;
  maxLength?: number;
  /** Ask for a duration too (mutes): choices in `unit`, plus "Custom…". */
  durations?: { label: string; choices: DurationChoice[]; unit: 'seconds' | 'minutes'; max: number };
  returnFocus?: () => HTMLElement | null | undefined;
  /** One more optional text field. */
  extra?: { label: string; hint?: string; placeholder?: string };
  /** Done on confirm; a throw keeps the dialog open with the error shown. */
  action?: (r: ReasonResult) => Promise<void>;
  /** The message for an error `action` threw, and whether it is about the extra field. */
  errorText?: (e: unknown) => { text: string; extra?: boolean };
}

export interface ReasonResult {
  reason: string;
  duration?: number;
  /** The extra field's text (trimmed; '' when empty). */
  extra?: string;
}

interface Pending extends ReasonOptions {
  resolve: (r: ReasonResult | null) => void;
}

const [pending, setPending] = createSignal<Pending | null>(null);

export function askReason(o: ReasonOptions): Promise<ReasonResult | null> {
  return new Promise((resolve) => {
    pending()?.resolve(null);
    setPending({ ...o, resolve });
  });
}

export function ReasonHost() {
  return (
    <Show when={pending()} keyed>
      {(p) => {
        const done = (r: ReasonResult | null) => {
          setPending(null);
          p.resolve(r);
        };
        const [choice, setChoice] = createSignal(String(p.durations?.choices[0]?.value ?? ''));
        const [error, setError] = createSignal('');
        const [extraError, setExtraError] = createSignal('');
        const [busy, setBusy] = createSignal(false);
        let reason!: HTMLTextAreaElement;
        let extra: HTMLInputElement | undefined;
        let amount: HTMLInputElement | undefined;
        let unit: HTMLSelectElement | undefined;
        const submit = (e: SubmitEvent) => {
          e.preventDefault();
          const text = reason.value.trim();
          if (p.required && !text) {
            setError('Please say what is wrong.');
            reason.focus();
            return;
          }
          let duration: number | undefined;
          if (p.durations) {
            if (choice() === 'custom') {
              const v = parseDuration(
                amount?.value ?? '',
                (unit?.value ?? 'minutes') as 'minutes',
                p.durations.unit,
                p.durations.max,
              );
              if (v === null) {
                setError('Enter a length between 1 minute and 1 year.');
                amount?.focus();
                return;
              }
              duration = v;
            } else duration = Number(choice());
          }
          const r: ReasonResult = { reason: text, duration, extra: extra?.value.trim() ?? '' };
          if (!p.action) return done(r);
          if (busy()) return;
          setBusy(true);
          setError('');
          setExtraError('');
          p.action(r)
            .then(() => done(r))
            .catch((err) => {
              const m = p.errorText?.(err) ?? { text: friendlyError(err) };
              if (m.extra && extra) {
                setExtraError(m.text);
                extra.focus();
              } else setError(m.text);
            })
            .finally(() => setBusy(false));
        };
        return (
          <Modal
            class="modal reason-dialog"
            labelledby="reason-title"
            describedby={p.body ? 'reason-body' : undefined}
            onClose={() => done(null)}
            returnFocus={p.returnFocus}
          >
            <form onSubmit={submit} aria-labelledby="reason-title">
              <h2 id="reason-title">{p.title}</h2>
              <Show when={p.body}>
                <p id="reason-body">{p.body}</p>
              </Show>
              <Show when={p.durations}>
                {(d) => (
                  <>
                    <label>
                      {d().label}
                      <select value={choice()} onChange={(e) => setChoice(e.currentTarget.value)}>
                        <For each={d().choices}>{(c) => <option value={String(c.value)}>{c.label}</option>}</For>
                        <option value="custom">Custom…</option>
                      </select>
                    </label>
                    <Show when={choice() === 'custom'}>
                      <div class="row custom-duration">
                        <label>
                          Length
                          <input ref={amount} type="number" min="1" step="1" inputmode="numeric" />
                        </label>
                        <label>
                          Unit
                          <select ref={unit}>
                            <option value="minutes">minutes</option>
                            <option value="hours" selected>
                              hours
                            </option>
                            <option value="days">days</option>
                          </select>
                        </label>
                      </div>
                    </Show>
                  </>
                )}
              </Show>
              <label>
                {p.reasonLabel ?? 'Reason (optional)'}
                <textarea
                  ref={reason}
                  rows={3}
                  maxLength={p.maxLength ?? 500}
                  aria-required={p.required}
                  aria-invalid={!!error() && p.required}
                  onInput={() => setError('')}
                />
              </label>
              <Show when={p.extra}>
                {(x) => (
                  <label class="extra-field">
                    {x().label}
                    <input
                      ref={extra}
                      type="text"
                      placeholder={x().placeholder}
                      aria-invalid={!!extraError()}
                      aria-describedby={x().hint || extraError() ? 'reason-extra-note' : undefined}
                      onInput={() => setExtraError('')}
                    />
                    <Show when={x().hint || extraError()}>
                      <span
                        id="reason-extra-note"
                        class={extraError() ? 'error' : 'hint'}
                        role={extraError() ? 'alert' : undefined}
                      >
                        {extraError() || x().hint}
                      </span>
                    </Show>
                  </label>
                )}
              </Show>
              <Show when={error()}>
                <p class="error" role="alert">
                  {error()}
                </p>
              </Show>
              <div class="row">
                <button type="button" onClick={() => done(null)}>
                  Cancel
                </button>
                <button type="submit" class={p.destructive ? 'destructive' : 'primary'} aria-disabled={busy()}>
                  {p.confirm}
                </button>
              </div>
            </form>
          </Modal>
        );
      }}
    </Show>
  );
}
