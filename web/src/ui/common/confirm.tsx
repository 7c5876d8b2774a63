import { createSignal, Show } from 'solid-js';
import { Modal } from './Modal';

/** What to ask: a question as the title, an optional explanation, and the confirming verb. */
export interface ConfirmOptions {
  title: string;
  body?: string;
  confirm: string;
  /** Styles the confirming button as destructive (deleting, banning, leaving…). */
  destructive?: boolean;
  /** Finds the control to focus on close if the one that opened the dialog was re-rendered. */
  returnFocus?: () => HTMLElement | null | undefined;
}
interface Request extends ConfirmOptions {
  resolve: (ok: boolean) => void;
}

const [request, setRequest] = createSignal<Request | null>(null);

/** The in-app replacement for window.confirm(): resolves true on confirm, false on cancel/Escape. */
export function askConfirm(o: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    request()?.resolve(false);
    setRequest({ ...o, resolve });
  });
}

/** Renders the pending confirmation, if any (mounted once by the app). */
export function ConfirmHost() {
  return (
    <Show when={request()} keyed>
      {(r) => {
        const done = (ok: boolean) => {
          setRequest(null);
          r.resolve(ok);
        };
        let cancel!: HTMLButtonElement;
        return (
          // Cancel gets focus first, so Enter straight away never destroys anything.
          <Modal
            role="alertdialog"
            class="modal confirm"
            labelledby="confirm-title"
            describedby={r.body ? 'confirm-body' : undefined}
            onClose={() => done(false)}
            initialFocus={() => cancel}
            returnFocus={r.returnFocus}
          >
            <h2 id="confirm-title">{r.title}</h2>
            <Show when={r.body}>
              <p id="confirm-body">{r.body}</p>
            </Show>
            <div class="row">
              <button type="button" ref={cancel} onClick={() => done(false)}>
                Cancel
              </button>
              <button type="button" class={r.destructive ? 'destructive' : 'primary'} onClick={() => done(true)}>
                {r.confirm}
              </button>
            </div>
          </Modal>
        );
      }}
    </Show>
  );
}
