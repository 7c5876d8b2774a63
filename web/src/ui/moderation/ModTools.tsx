// The moderation tools of a group (members panel, admins and the owner): banned people, reports,
// the audit log, as tabs. Loaded on demand (import()), so first load does not carry them.
import { createSignal, For, Match, Switch } from 'solid-js';
import type { Client } from '../../lib/client';
import { Audit } from './Audit';
import { Bans } from './Bans';
import { Reports } from './Reports';

type Tab = 'reports' | 'bans' | 'audit';
const TABS: { id: Tab; label: string }[] = [
  { id: 'reports', label: 'Reports' },
  { id: 'bans', label: 'Banned' },
  { id: 'audit', label: 'Audit log' },
];

export default function ModTools(props: {
  client: Client;
  roomId: string;
  onJump: (roomId: string, messageId: string) => void;
}) {
  const [tab, setTab] = createSignal<Tab>('reports');
  const select = (t: Tab) => {
    setTab(t);
    queueMicrotask(() => document.getElementById(`mod-tab-${t}`)?.focus());
  };
  return (
    <section class="mod-tools" aria-labelledby="mod-tools-title">
      <h4 id="mod-tools-title">Moderation</h4>
      <div
        class="mod-tabs"
        role="tablist"
        aria-label="Moderation"
        onKeyDown={(e) => {
          const i = TABS.findIndex((t) => t.id === tab());
          if (e.key === 'ArrowRight') select(TABS[(i + 1) % TABS.length].id);
          else if (e.key === 'ArrowLeft') select(TABS[(i - 1 + TABS.length) % TABS.length].id);
        }}
      >
        <For each={TABS}>
          {(t) => (
            <button
              type="button"
              role="tab"
              id={`mod-tab-${t.id}`}
              aria-selected={tab() === t.id}
              aria-controls="mod-tabpanel"
              tabindex={tab() === t.id ? 0 : -1}
              onClick={() => setTab(t.id)}
            >
              {t.label}
            </button>
          )}
        </For>
      </div>
      <div id="mod-tabpanel" role="tabpanel" aria-labelledby={`mod-tab-${tab()}`}>
        <Switch>
          <Match when={tab() === 'reports'}>
            <Reports client={props.client} roomId={props.roomId} onJump={props.onJump} />
          </Match>
          <Match when={tab() === 'audit'}>
            <Audit client={props.client} roomId={props.roomId} />
          </Match>
          <Match when={tab() === 'bans'}>
            <Bans client={props.client} roomId={props.roomId} />
          </Match>
        </Switch>
      </div>
    </section>
  );
}
