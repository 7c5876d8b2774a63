import { createResource, createSignal, For, onMount, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { Icon } from '../common/Icon';
import { loadPrefs, savePrefs, type Prefs } from './prefs';

export function Settings(props: { client: Client; onClose: () => void }) {
  const c = props.client;
  const [prefs, setPrefs] = createSignal<Prefs>(loadPrefs());
  const [sessions, { refetch }] = createResource(() => c.sessions().catch(() => []));
  const [error, setError] = createSignal('');
  let heading!: HTMLHeadingElement;
  onMount(() => heading.focus());
  const update = (p: Partial<Prefs>) => { const n = { ...prefs(), ...p }; setPrefs(n); savePrefs(n); };
  return (
    <section class="settings" aria-label="Settings" onKeyDown={(e) => { if (e.key === 'Escape') { e.stopPropagation(); props.onClose(); } }}>
      <header class="room-head"><button class="back" aria-label="Close settings" onClick={props.onClose}><Icon name="back" /></button><h2 ref={heading} tabindex="-1">Settings</h2></header>
      <div class="settings-body">
        <Show when={error()}><p class="error" role="alert">{error()}</p></Show>
        <h3>Profile</h3>
        <form onSubmit={(e) => { e.preventDefault(); c.updateProfile(String(new FormData(e.currentTarget).get('dn'))).catch((x) => setError(x.message)); }}>
          <label>Display name<input name="dn" value={c.me?.display_name ?? ''} /></label>
          <button type="submit">Save</button>
        </form>
        <h3>Appearance</h3>
        <label>Theme
          <select value={prefs().theme} onChange={(e) => update({ theme: e.currentTarget.value as Prefs['theme'] })}>
            <option value="system">System</option><option value="light">Light</option><option value="dark">Dark</option>
          </select>
        </label>
        <label>Preferred language<input value={prefs().language} onChange={(e) => update({ language: e.currentTarget.value })} /></label>
        <label>Notifications (this device)
          <select value={prefs().notifications} onChange={(e) => update({ notifications: e.currentTarget.value as Prefs['notifications'] })}>
            <option value="all">All messages</option><option value="mentions">Mentions only</option><option value="none">None</option>
          </select>
        </label>
        <h3>Sessions</h3>
        <ul class="sessions">
          <For each={sessions() ?? []}>
            {(s) => (
              <li>{s.user_agent ?? 'Unknown device'} · {s.ip ?? ''} · last used {new Date(s.last_used_at).toLocaleString()}
                <Show when={s.current} fallback={<button onClick={() => c.revokeSession(s.id).then(refetch, (x) => setError(x.message))}>Sign out</button>}> (this device)</Show>
              </li>
            )}
          </For>
        </ul>
        <div class="row">
          <button onClick={() => c.logout(false)}>Log out</button>
          <button class="danger" onClick={() => confirm('Log out on all devices?') && c.logout(true)}>Log out everywhere</button>
        </div>
      </div>
    </section>
  );
}
