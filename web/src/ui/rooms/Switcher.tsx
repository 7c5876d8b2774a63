import { createSignal, For, onCleanup, onMount } from 'solid-js';
import type { Client } from '../../lib/client';
import { Rooms } from '../../lib/rooms';

/** Ctrl/Cmd+K: jump to a room by typing part of its name. */
export function Switcher(props: { client: Client; onClose: () => void }) {
  const [q, setQ] = createSignal('');
  const [sel, setSel] = createSignal(0);
  let input!: HTMLInputElement;
  const matches = () => props.client.rooms.list().filter((r) => Rooms.title(r).toLowerCase().includes(q().toLowerCase())).slice(0, 8);
  const go = (id: string) => { props.onClose(); void props.client.openRoom(id); };
  // Focus goes into the dialog, and back to whatever had it when the dialog closes.
  const opener = document.activeElement as HTMLElement | null;
  onMount(() => input.focus());
  onCleanup(() => { if (opener?.isConnected) opener.focus(); });
  return (
    <div class="switcher-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="switcher" role="dialog" aria-modal="true" aria-label="Switch room"
        onKeyDown={(e) => { if (e.key === 'Escape') { e.stopPropagation(); props.onClose(); } }}>
        <input ref={input} aria-label="Room name" placeholder="Jump to…" onInput={(e) => { setQ(e.currentTarget.value); setSel(0); }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') setSel(Math.min(sel() + 1, matches().length - 1));
            else if (e.key === 'ArrowUp') setSel(Math.max(sel() - 1, 0));
            else if (e.key === 'Enter' && matches()[sel()]) go(matches()[sel()].id);
          }} />
        <ul role="listbox" aria-label="Rooms">
          <For each={matches()}>{(r, i) => <li role="option" aria-selected={i() === sel()}><button onClick={() => go(r.id)}>{Rooms.title(r)}</button></li>}</For>
        </ul>
      </div>
    </div>
  );
}
