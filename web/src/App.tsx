import { createEffect, createMemo, createSignal, Match, on, onCleanup, onMount, Show, Switch } from 'solid-js';
import type { Client } from './lib/client';
import { Banner } from './ui/common/Banner';
import { AuthScreen } from './ui/auth/AuthScreen';
import { Sidebar } from './ui/rooms/Sidebar';
import { RoomView } from './ui/messages/RoomView';
import { Panel } from './ui/rooms/Panel';
import { Settings } from './ui/settings/Settings';
import { Switcher } from './ui/rooms/Switcher';
import { ConfirmHost } from './ui/common/confirm';
import type { Navigation } from './ui/navigation';
import { focusIntoRoom } from './ui/common/focusRoom';
import { ProfileCard } from './ui/people/ProfileCard';
import { ReasonHost } from './ui/moderation/ReasonDialog';
import { ToastHost } from './ui/common/toast';
import { Welcome } from './ui/onboarding/Welcome';
import { takeOnboarding } from './lib/onboarding';

export function App(props: { client: Client; nav: Navigation }) {
  const c = props.client;
  const nav = props.nav;
  const [panel, setPanel] = createSignal<string | null>(null);
  const [switcher, setSwitcher] = createSignal(false);
  const [profile, setProfile] = createSignal<string | null>(null);
  const phase = () => c.phase;
  const current = () => c.currentRoom;
  const settings = () => nav.settings();
  // The first run after sign-up (shown once): in place of the empty room area until dismissed or
  // a conversation is opened.
  const [welcome, setWelcome] = createSignal(false);
  // A memo, so a change to my profile (same account) does not count as signing in again.
  const signedIn = createMemo(() => (phase() === 'app' ? c.me?.id : undefined));
  createEffect(on(signedIn, (id) => setWelcome(!!id && takeOnboarding(id))));
  createEffect(
    on(
      current,
      (id) => {
        if (id) setWelcome(false);
      },
      { defer: true },
    ),
  );
  const welcomeShown = () => welcome() && !current() && !settings();
  const endWelcome = () => {
    setWelcome(false);
    // Back to the room list (on a phone it is the screen now), on its first action.
    queueMicrotask(() => document.querySelector<HTMLElement>('.side-actions button')?.focus());
  };
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
  const closeSettings = () => {
    nav.closeSettings();
    restore();
  };
  /** A room picked by the user: show it and move focus into it. */
  const enterRoom = (id: string, messageId?: string, seq?: number) => {
    const p = nav.openRoom(id, messageId, seq);
    focusIntoRoom();
    return p;
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
        <main class="loading">
          <h1 class="sr-only">JustUs</h1>
          <p role="status">Loading…</p>
        </main>
      </Match>
      <Match when={phase() === 'auth'}>
        <AuthScreen client={c} invite={nav.pendingInvite()} />
      </Match>
      <Match when={phase() === 'app'}>
        <div class={`layout${current() || settings() || welcomeShown() ? ' has-room' : ''}`}>
          <Sidebar
            client={c}
            settingsOpen={settings()}
            onSettings={() => {
              if (settings()) return closeSettings();
              remember();
              nav.openSettings();
            }}
            onOpenRoom={(id) => void enterRoom(id)}
          />
          <main class="main">
            {/* The page's one h1 (axe: page-has-heading-one), in a landmark (axe: region). */}
            <h1 class="sr-only">JustUs</h1>
            <Banner client={c} />
            <Show when={!settings()} fallback={<Settings client={c} onClose={closeSettings} />}>
              <Show
                when={current()}
                keyed
                fallback={
                  <>
                    <Show when={nav.inviteNote()}>
                      <p class="error invite-note" role="alert" data-testid="invite-note">
                        {nav.inviteNote()}
                      </p>
                    </Show>
                    <Show
                      when={welcomeShown()}
                      fallback={
                        <div class="empty-main" data-testid="empty-main">
                          <img src="/icons/icon-192.png" alt="" width="64" height="64" />
                          <Show
                            when={c.rooms.list().length}
                            fallback={
                              <p>No conversations yet. Start one from the list: message someone, or create a group.</p>
                            }
                          >
                            <p>Pick a conversation, or start one.</p>
                          </Show>
                        </div>
                      }
                    >
                      <Welcome client={c} onDone={endWelcome} onOpenRoom={(id) => void enterRoom(id)} />
                    </Show>
                  </>
                }
              >
                {(id) => <RoomView client={c} nav={nav} roomId={id} onPanel={openPanel} onProfile={setProfile} />}
              </Show>
            </Show>
          </main>
          <Show when={panel() && current() && !settings()}>
            <Panel
              client={c}
              roomId={current()!}
              kind={panel()!}
              onClose={closePanel}
              onProfile={setProfile}
              onJump={(roomId, messageId, seq) => {
                // The panel stays open on wide screens (more results to try); on a phone it
                // covers the room, so it closes.
                if (window.matchMedia('(max-width: 720px)').matches) {
                  setPanel(null);
                  opener = null;
                }
                void nav.openRoom(roomId, messageId, seq);
              }}
            />
          </Show>
        </div>
        <Show when={switcher()}>
          <Switcher
            client={c}
            onClose={() => setSwitcher(false)}
            onOpen={(id) => {
              setSwitcher(false);
              void enterRoom(id);
            }}
          />
        </Show>
        <Show when={profile()} keyed>
          {(id) => (
            <ProfileCard
              client={c}
              userId={id}
              onClose={() => setProfile(null)}
              onMessage={(roomId) => {
                setProfile(null);
                setPanel(null);
                void enterRoom(roomId);
              }}
            />
          )}
        </Show>
        <ConfirmHost />
        <ReasonHost />
        <ToastHost />
      </Match>
    </Switch>
  );
}
