// A floating emoji picker (search, categories, skin tones, frequently used) next to the button
// that opened it: for the composer and for reactions. The picker is loaded on first use. It is a
// non-modal dialog: focus goes to its search field; Escape, a click outside or picking an emoji
// closes it, and focus returns to the opener.
import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { Portal } from 'solid-js/web';

const WIDTH = 352;
const HEIGHT = 400;
const MARGIN = 8;

/** Where the popover goes: above the anchor when it fits, else below; kept inside the window. */
function place(anchor: DOMRect, vw: number, vh: number): { left: number; top: number; width: number; height: number } {
  const width = Math.min(WIDTH, vw - 2 * MARGIN);
  const height = Math.min(HEIGHT, vh - 2 * MARGIN);
  // From the anchor's left edge when it fits, else ending at its right edge.
  const fromLeft = anchor.left + width <= vw - MARGIN ? anchor.left : anchor.right - width;
  const left = Math.max(MARGIN, Math.min(fromLeft, vw - width - MARGIN));
  const above = anchor.top - height - 4;
  const below = anchor.bottom + 4;
  const top = above >= MARGIN ? above : Math.max(MARGIN, Math.min(below, vh - height - MARGIN));
  return { left, top, width, height };
}

export function EmojiPopover(props: {
  /** The button that opened it (placement and where focus returns). */
  anchor: HTMLElement;
  label: string;
  onPick: (unicode: string) => void;
  onClose: () => void;
}) {
  // Read once: the prop may come from a <Show> that is gone by the time the popover closes.
  const anchor = props.anchor;
  let box!: HTMLDivElement;
  // The picker element goes here, not into `box` (Solid owns box's other children).
  let host!: HTMLDivElement;
  const [status, setStatus] = createSignal('Loading emoji…');
  const r = place(anchor.getBoundingClientRect(), window.innerWidth, window.innerHeight);
  let done = false;
  const close = (restore: boolean) => {
    if (done) return;
    done = true;
    props.onClose();
    if (restore && anchor.isConnected) anchor.focus({ preventScroll: true });
  };
  const outside = (e: PointerEvent) => {
    const t = e.target as Node;
    if (!box.contains(t) && !anchor.contains(t)) close(false);
  };
  onMount(() => {
    document.addEventListener('pointerdown', outside, true);
    box.focus({ preventScroll: true });
    import('./picker')
      .then(({ createPicker }) => {
        if (done) return;
        const picker = createPicker();
        picker.addEventListener('emoji-click', (e) => {
          const u = e.detail.unicode;
          if (!u) return;
          close(true);
          props.onPick(u);
        });
        host.append(picker);
        setStatus('');
        // The search field, once the picker has rendered (its shadow root is open).
        const focusSearch = (tries: number) => {
          const input = picker.shadowRoot?.querySelector<HTMLInputElement>('input#search');
          if (input) input.focus({ preventScroll: true });
          else if (tries > 0) requestAnimationFrame(() => focusSearch(tries - 1));
        };
        focusSearch(30);
      })
      .catch(() => setStatus('The emoji picker could not be loaded. Check the connection and try again.'));
  });
  onCleanup(() => document.removeEventListener('pointerdown', outside, true));

  return (
    <Portal>
      <div
        ref={box}
        class="emoji-popover"
        role="dialog"
        aria-label={props.label}
        tabindex="-1"
        data-testid="emoji-picker"
        style={{ left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            close(true);
          }
        }}
        onFocusOut={(e) => {
          // Tab out of the picker closes it (focus went somewhere else on purpose).
          const to = e.relatedTarget as Node | null;
          if (to && !box.contains(to) && to !== anchor) close(false);
        }}
      >
        <Show when={status()}>
          <p class="emoji-status" role="status">
            {status()}
          </p>
        </Show>
        <div class="emoji-host" ref={host} />
      </div>
    </Portal>
  );
}
