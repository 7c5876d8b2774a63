// Short notes after an action ("Report sent"): one at a time, read out by screen readers
// (role=status), gone after a few seconds. Mounted once by the app.
import { createSignal, Show } from 'solid-js';

const [toast, setToast] = createSignal<{ text: string; n: number } | null>(null);
let timer: ReturnType<typeof setTimeout> | undefined;
let n = 0;

export function showToast(text: string, ms = 5000): void {
  clearTimeout(timer);
  const id = ++n;
  setToast({ text, n: id });
  timer = setTimeout(() => {
    if (toast()?.n === id) setToast(null);
  }, ms);
}

export function ToastHost() {
  return (
    <div class="toast-host" role="status" aria-live="polite">
      <Show when={toast()}>
        {(t) => (
          <p class="toast" data-testid="toast">
            {t().text}
          </p>
        )}
      </Show>
    </div>
  );
}
