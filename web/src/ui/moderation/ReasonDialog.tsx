// The dialog moderation actions ask through: a reason (optional, or required for a report), and
// for a mute how long (a few choices or a custom amount). Like askConfirm (common/confirm.tsx):
// one at a time, in the app's modal shell; resolves null on Cancel or Escape.
import { createSignal, For, Show } from 'solid-js';
import { parseDuration } from '../../lib/moderation';
import { Modal } from '../common/Modal';

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
}

export interface ReasonResult {
  reason: string;
  duration?: number;
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
        let reason!: HTMLTextAreaElement;
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
          done({ reason: text, duration });
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
              <Show when={error()}>
                <p class="error" role="alert">
                  {error()}
                </p>
              </Show>
              <div class="row">
                <button type="button" onClick={() => done(null)}>
                  Cancel
                </button>
                <button type="submit" class={p.destructive ? 'destructive' : 'primary'}>
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
