// Opening a message's actions without hover: a long press on touch screens, the context menu
// (right click, the Menu key, Shift+F10). The actions stay shown until a tap elsewhere, Escape,
// or another message's menu; focus moves to the first action so a keyboard can go on.
import { createSignal, onCleanup } from 'solid-js';

const LONG_PRESS_MS = 500;
const MOVE_TOLERANCE_PX = 10;

export function useMessageMenu() {
  const [openFor, setOpenFor] = createSignal<string | null>(null);
  let openedOn: HTMLElement | null = null;
  let press: { timer: ReturnType<typeof setTimeout>; x: number; y: number } | null = null;

  const outside = (e: PointerEvent) => {
    if (openedOn && !openedOn.contains(e.target as Node)) close(false);
  };
  const close = (restoreFocus: boolean) => {
    const el = openedOn;
    openedOn = null;
    setOpenFor(null);
    document.removeEventListener('pointerdown', outside, true);
    if (restoreFocus && el?.isConnected) el.focus({ preventScroll: true });
  };
  const open = (id: string, el: HTMLElement) => {
    if (openedOn && openedOn !== el) close(false);
    openedOn = el;
    setOpenFor(id);
    document.addEventListener('pointerdown', outside, true);
    queueMicrotask(() => el.querySelector<HTMLElement>('.actions button')?.focus({ preventScroll: true }));
  };
  const cancelPress = () => {
    if (press) clearTimeout(press.timer);
    press = null;
  };
  onCleanup(() => {
    cancelPress();
    document.removeEventListener('pointerdown', outside, true);
  });

  const handlers = (id: string) => ({
    onContextMenu: (e: MouseEvent) => {
      const t = e.target as HTMLElement;
      // Links, media and selected text keep the browser's own menu.
      if (t.closest('a, img, video, audio') || String(window.getSelection() ?? '')) return;
      e.preventDefault();
      cancelPress();
      open(id, e.currentTarget as HTMLElement);
    },
    onPointerDown: (e: PointerEvent) => {
      if (e.pointerType !== 'touch') return;
      cancelPress();
      const el = e.currentTarget as HTMLElement;
      press = { timer: setTimeout(() => open(id, el), LONG_PRESS_MS), x: e.clientX, y: e.clientY };
    },
    onPointerMove: (e: PointerEvent) => {
      if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > MOVE_TOLERANCE_PX) cancelPress();
    },
    onPointerUp: cancelPress,
    onPointerCancel: cancelPress,
  });

  return { openFor, close, handlers };
}
