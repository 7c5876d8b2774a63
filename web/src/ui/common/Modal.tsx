import { onCleanup, onMount, type JSX } from 'solid-js';
import { trapTarget } from '../../lib/focus';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The visible focusable elements inside `root`, in tab order (document order; no positive tabindex here). */
export function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

/** Keep Tab and Shift+Tab inside `root`. */
export function trapTab(e: KeyboardEvent, root: HTMLElement): void {
  if (e.key !== 'Tab') return;
  const items = focusables(root);
  const i = trapTarget(items.length, items.indexOf(document.activeElement as HTMLElement), e.shiftKey);
  if (items.length === 0) e.preventDefault();
  else if (i !== null) {
    e.preventDefault();
    items[i].focus();
  }
}

/**
 * A modal dialog: a backdrop, focus moved in on open and trapped while open, Escape or a click
 * on the backdrop closes, and focus returns to whatever had it when the dialog opened.
 */
export function Modal(props: {
  role?: 'dialog' | 'alertdialog';
  label?: string;
  labelledby?: string;
  describedby?: string;
  class: string;
  backdropClass?: string;
  onClose: () => void;
  /** Where focus goes on close when the opener is gone (re-rendered rows replace their buttons). */
  returnFocus?: () => HTMLElement | null | undefined;
  /** The element to focus first (default: the first focusable one). */
  initialFocus?: () => HTMLElement | undefined;
  children: JSX.Element;
}) {
  let box!: HTMLDivElement;
  const opener = document.activeElement as HTMLElement | null;
  onMount(() => (props.initialFocus?.() ?? focusables(box)[0] ?? box).focus());
  onCleanup(() => queueMicrotask(() => (opener?.isConnected ? opener : props.returnFocus?.())?.focus()));
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a backdrop click is the mouse's Escape
    // biome-ignore lint/a11y/useKeyWithClickEvents: keyboards close the dialog with Escape (below)
    <div
      class={props.backdropClass ?? 'modal-backdrop'}
      onClick={(e) => e.target === e.currentTarget && props.onClose()}
    >
      {/* biome-ignore lint/a11y/useAriaPropsSupportedByRole: role is (alert)dialog, from a prop */}
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the dialog itself (role from a prop) */}
      <div
        ref={box}
        class={props.class}
        role={props.role ?? 'dialog'}
        aria-modal="true"
        tabindex="-1"
        aria-label={props.label}
        aria-labelledby={props.labelledby}
        aria-describedby={props.describedby}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            props.onClose();
          } else trapTab(e, box);
        }}
      >
        {props.children}
      </div>
    </div>
  );
}
