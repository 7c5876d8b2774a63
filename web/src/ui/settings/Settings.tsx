import { createResource, createSignal, For, lazy, onMount, Show, Suspense } from 'solid-js';
import type { Client } from '../../lib/client';
import { Icon } from '../common/Icon';
import { askConfirm } from '../common/confirm';
import { LANGUAGES, loadPreferredLanguage, loadPrefs, persistPreferredLanguage, savePrefs, type Prefs } from './prefs';
import { AiSettings } from '../ai/AiSettings';
import { notificationPermission, requestNotificationPermission } from './notifications';
import { AvatarSetting } from '../media/AvatarSetting';
import { PrivacySettings } from './PrivacySettings';
import { friendlyError } from '../../lib/errors';
import { describeUserAgent } from '../../lib/userAgent';

// Reports (mine; the instance's for its admins) and the instance audit log: loaded on demand.
const SettingsModeration = lazy(() => import('../moderation/SettingsModeration'));

const languageName = (code: string) => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
};

export function Settings(props: { client: Client; onClose: () => void }) {
  const c = props.client;
  const [prefs, setPrefs] = createSignal<Prefs>(loadPrefs());
  const [sessions, { refetch }] = createResource(() => c.profile.sessions().catch(() => []));
  const [error, setError] = createSignal('');
  const [nameStatus, setNameStatus] = createSignal('');
  let heading!: HTMLHeadingElement;
  onMount(() => heading.focus());
  onMount(
    () =>
      void loadPreferredLanguage(c).then(
        (l) => {
          if (l) setPrefs({ ...prefs(), language: l });
        },
        () => {},
      ),
  );
  const update = (p: Partial<Prefs>) => {
    const n = { ...prefs(), ...p };
    setPrefs(n);
    savePrefs(n);
  };
  const [permission, setPermission] = createSignal(notificationPermission());
  const [langSaved, setLangSaved] = createSignal(false);
  // The browser asks for permission only when the user opts in, never on page load.
  const setNotifications = async (v: Prefs['notifications']) => {
    update({ notifications: v });
    if (v !== 'none') setPermission(await requestNotificationPermission());
  };
  const setLanguage = async (lang: string) => {
    setLangSaved(false);
    try {
      await persistPreferredLanguage(c, lang);
      setPrefs({ ...prefs(), language: lang });
      setLangSaved(true);
    } catch (x) {
      setError(friendlyError(x));
    }
  };
  const languages = () => {
    const cur = prefs().language;
    return LANGUAGES.includes(cur) ? LANGUAGES : [cur, ...LANGUAGES];
  };
  return (
    <section
      class="settings"
      aria-label="Settings"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          props.onClose();
        }
      }}
    >
      <header class="room-head">
        <button type="button" class="back" aria-label="Back" title="Back" onClick={props.onClose}>
          <Icon name="back" />
        </button>
        <h2 ref={heading} tabindex="-1">
          Settings
        </h2>
      </header>
      <div class="settings-body">
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <h3>Profile</h3>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const dn = String(new FormData(e.currentTarget).get('dn')).trim();
            setNameStatus('Saving…');
            c.profile.update(dn).then(
              () => setNameStatus(dn ? `Saved. You appear as “${dn}”.` : 'Saved. You appear by your username.'),
              (x) => setNameStatus(friendlyError(x)),
            );
          }}
        >
          <label>
            Display name
            <input name="dn" value={c.me?.display_name ?? ''} maxLength={100} onInput={() => setNameStatus('')} />
          </label>
          <button type="submit">Save</button>
          <p class="hint" role="status" data-testid="name-status">
            {nameStatus()}
          </p>
        </form>
        <AvatarSetting client={c} target="user" />
        <PrivacySettings client={c} />
        <h3>Appearance</h3>
        <label>
          Theme
          <select value={prefs().theme} onChange={(e) => update({ theme: e.currentTarget.value as Prefs['theme'] })}>
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        <h3>Language</h3>
        <label>
          Preferred language for translations
          <select value={prefs().language} onChange={(e) => void setLanguage(e.currentTarget.value)}>
            <For each={languages()}>{(l) => <option value={l}>{languageName(l)}</option>}</For>
          </select>
        </label>
        <p class="hint" role="status">
          {langSaved() ? 'Saved.' : ''}
        </p>
        <AiSettings client={c} />
        <h3>Notifications</h3>
        <label>
          Notify me about (this device)
          <select
            value={prefs().notifications}
            onChange={(e) => void setNotifications(e.currentTarget.value as Prefs['notifications'])}
          >
            <option value="all">All messages</option>
            <option value="mentions">Mentions and direct messages</option>
            <option value="none">Nothing</option>
          </select>
        </label>
        <p class="hint" data-testid="notify-status">
          <Show when={prefs().notifications !== 'none'} fallback="Notifications are off.">
            <Show when={permission() === 'granted'}>Shown while JustUs is in a background tab.</Show>
            <Show when={permission() === 'denied'}>
              Blocked by the browser: allow notifications for this site in its settings.
            </Show>
            <Show when={permission() === 'unsupported'}>This browser cannot show notifications.</Show>
            <Show when={permission() === 'default'}>
              <button type="button" onClick={() => void requestNotificationPermission().then(setPermission)}>
                Allow notifications
              </button>
            </Show>
          </Show>
        </p>
        <Suspense fallback={<p class="hint">Loading reports…</p>}>
          <SettingsModeration client={c} />
        </Suspense>
        <h3>Sessions</h3>
        <ul class="sessions">
          <For each={sessions() ?? []}>
            {(s) => (
              <li>
                <span title={s.user_agent ?? undefined} data-testid="session-device">
                  {describeUserAgent(s.user_agent)}
                </span>
                <small>
                  {' '}
                  · {s.ip ? `${s.ip} · ` : ''}last active {new Date(s.last_used_at).toLocaleString()}
                </small>
                <Show
                  when={s.current}
                  fallback={
                    <button
                      type="button"
                      aria-label={`Sign out ${describeUserAgent(s.user_agent)}, last active ${new Date(s.last_used_at).toLocaleString()}`}
                      onClick={() => c.profile.revokeSession(s.id).then(refetch, (x) => setError(friendlyError(x)))}
                    >
                      Sign out
                    </button>
                  }
                >
                  {' '}
                  (this device)
                </Show>
              </li>
            )}
          </For>
        </ul>
        <div class="row">
          <button type="button" onClick={() => c.session.logout(false)}>
            Log out
          </button>
          <button
            type="button"
            class="danger"
            onClick={() =>
              void askConfirm({
                title: 'Log out on all devices?',
                body: 'Every session, including this one, is ended.',
                confirm: 'Log out everywhere',
                destructive: true,
              }).then((ok) => {
                if (ok) void c.session.logout(true);
              })
            }
          >
            Log out everywhere
          </button>
        </div>
      </div>
    </section>
  );
}
