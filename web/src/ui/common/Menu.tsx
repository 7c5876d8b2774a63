// A menu button (WAI-ARIA menu pattern): the button opens a list of actions; focus goes to the
// first one, Up/Down/Home/End move, Enter or Space picks, Escape or Tab closes (Escape gives the
// focus back to the button), a click outside closes.
import { createSignal, For, type JSX, onCleanup, Show } from 'solid-js';

export interface MenuItem {
  label: string;
  onSelect: () => void;
  destructive?: boolean;
}

export function MenuButton(props: {
  /** The button's accessible name ("Actions for Bob"). */
  label: string;
  items: MenuItem[];
  children: JSX.Element;
  class?: string;
}) {
  const [open, setOpen] = createSignal(false);
  let button!: HTMLButtonElement;
  let list: HTMLDivElement | undefined;
  const items = () => [...(list?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
  const outside = (e: PointerEvent) => {
    if (!list?.contains(e.target as Node) && !button.contains(e.target as Node)) close(false);
  };
  const close = (restore: boolean) => {
    setOpen(false);
    document.removeEventListener('pointerdown', outside, true);
    if (restore) button.focus();
  };
  const show = (focus: 'first' | 'last') => {
    setOpen(true);
    document.addEventListener('pointerdown', outside, true);
    queueMicrotask(() => {
      const all = items();
      (focus === 'first' ? all[0] : all[all.length - 1])?.focus();
    });
  };
  onCleanup(() => document.removeEventListener('pointerdown', outside, true));
  const move = (e: KeyboardEvent) => {
    const all = items();
    const i = all.indexOf(document.activeElement as HTMLElement);
    let next = -1;
    if (e.key === 'ArrowDown') next = (i + 1) % all.length;
    else if (e.key === 'ArrowUp') next = (i - 1 + all.length) % all.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = all.length - 1;
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      return close(true);
    } else if (e.key === 'Tab') return close(false);
    else return;
    e.preventDefault();
    all[next]?.focus();
  };
  return (
    <span class={`menu-wrap ${props.class ?? ''}`}>
      <button
        type="button"
        ref={button}
        class="menu-button"
        aria-label={props.label}
        title={props.label}
        aria-haspopup="menu"
        aria-expanded={open()}
        onClick={() => (open() ? close(false) : show('first'))}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            show(e.key === 'ArrowDown' ? 'first' : 'last');
          }
        }}
      >
        {props.children}
      </button>
      <Show when={open()}>
        <div class="menu" role="menu" aria-label={props.label} ref={list} onKeyDown={move}>
          <For each={props.items}>
            {(it) => (
              <button
                type="button"
                role="menuitem"
                tabindex="-1"
                class={it.destructive ? 'danger-text' : ''}
                onClick={() => {
                  close(true);
                  it.onSelect();
                }}
              >
                {it.label}
              </button>
            )}
          </For>
        </div>
      </Show>
    </span>
  );
}
