import { createSignal, Match, onCleanup, onMount, Show, Switch } from 'solid-js';
import type { Client } from './lib/client';
import { Banner } from './ui/common/Banner';
import { AuthScreen } from './ui/auth/AuthScreen';
import { Sidebar } from './ui/rooms/Sidebar';
import { RoomView } from './ui/messages/RoomView';
import { Panel } from './ui/rooms/Panel';
import { Settings } from './ui/settings/Settings';
import { Switcher } from './ui/rooms/Switcher';
import { ConfirmHost } from './ui/common/confirm';

export function App(props: { client: Client }) {
  const c = props.client;
  const [settings, setSettings] = createSignal(false);
  const [panel, setPanel] = createSignal<string | null>(null);
  const [switcher, setSwitcher] = createSignal(false);
  const phase = () => c.phase;
  const current = () => c.currentRoom;
  // Panels and settings give focus back to the control that opened them when they close.
  let opener: HTMLElement | null = null;
  const remember = () => {
    opener = document.activeElement as HTMLElement | null;
  };
  const restore = () => {
    const o = opener;
    opener = null;
    queueMicrotask(() => {
      if (o?.isConnected) o.focus();
    });
  };
  const openPanel = (p: string) => {
    if (panel() === p) {
      setPanel(null);
      return;
    }
    if (!panel()) remember();
    setPanel(p);
  };
  const closePanel = () => {
    setPanel(null);
    restore();
  };

  onMount(() => {
    const key = (e: KeyboardEvent) => {
      // Not over another modal dialog (a pending confirmation keeps the focus trap).
      if (
        (e.ctrlKey || e.metaKey) &&
        e.key.toLowerCase() === 'k' &&
        c.phase === 'app' &&
        !document.querySelector('[aria-modal="true"]')
      ) {
        e.preventDefault();
        setSwitcher(true);
      }
    };
    window.addEventListener('keydown', key);
    onCleanup(() => window.removeEventListener('keydown', key));
  });

  return (
    <Switch>
      <Match when={phase() === 'loading'}>
        <p class="loading" role="status">
          Loading…
        </p>
      </Match>
      <Match when={phase() === 'auth'}>
        <AuthScreen client={c} />
      </Match>
      <Match when={phase() === 'app'}>
        <div class={`layout${current() || settings() ? ' has-room' : ''}`}>
          <Sidebar
            client={c}
            onSettings={() => {
              remember();
              setSettings(true);
            }}
          />
          <main class="main">
            <Banner client={c} />
            <Show
              when={!settings()}
              fallback={
                <Settings
                  client={c}
                  onClose={() => {
                    setSettings(false);
                    restore();
                  }}
                />
              }
            >
              <Show when={current()} keyed fallback={<p class="empty-main">Pick a conversation, or start one.</p>}>
                {(id) => <RoomView client={c} roomId={id} onPanel={openPanel} />}
              </Show>
            </Show>
          </main>
          <Show when={panel() && current() && !settings()}>
            <Panel client={c} roomId={current()!} kind={panel()!} onClose={closePanel} />
          </Show>
        </div>
        <Show when={switcher()}>
          <Switcher client={c} onClose={() => setSwitcher(false)} />
        </Show>
        <ConfirmHost />
      </Match>
    </Switch>
  );
}
