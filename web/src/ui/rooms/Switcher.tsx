import { createSignal, For } from 'solid-js';
import type { Client } from '../../lib/client';
import { Modal } from '../common/Modal';

/** Ctrl/Cmd+K: jump to a room by typing part of its name. Focus is trapped while it is open. */
export function Switcher(props: { client: Client; onClose: () => void; onOpen: (id: string) => void }) {
  const c = props.client;
  const [q, setQ] = createSignal('');
  const [sel, setSel] = createSignal(0);
  let input!: HTMLInputElement;
  const matches = () =>
    props.client.rooms
      .list()
      .filter((r) => c.rooms.title(r).toLowerCase().includes(q().toLowerCase()))
      .slice(0, 8);
  const go = (id: string) => props.onOpen(id);
  return (
    <Modal
      class="switcher"
      backdropClass="switcher-backdrop"
      label="Switch room"
      onClose={props.onClose}
      initialFocus={() => input}
    >
      <input
        ref={input}
        aria-label="Room name"
        placeholder="Jump to…"
        onInput={(e) => {
          setQ(e.currentTarget.value);
          setSel(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setSel(Math.min(sel() + 1, matches().length - 1));
          else if (e.key === 'ArrowUp') setSel(Math.max(sel() - 1, 0));
          else if (e.key === 'Enter' && matches()[sel()]) go(matches()[sel()].id);
        }}
      />
      {/* biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the input's arrows drive it */}
      <ul role="listbox" aria-label="Rooms">
        <For each={matches()}>
          {(r, i) => (
            // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the listbox's options
            // biome-ignore lint/a11y/useFocusableInteractive: the button inside takes the focus
            <li role="option" aria-selected={i() === sel()}>
              <button type="button" onClick={() => go(r.id)}>
                {c.rooms.title(r)}
              </button>
            </li>
          )}
        </For>
      </ul>
    </Modal>
  );
}
