// The first run after sign-up (lib/onboarding.ts decides when): set the display name and a
// picture, find people to write to. Shown in place of the empty room area (on a phone as its own
// screen); "Start chatting" or opening a conversation ends it, and it does not come back.
import { createSignal, For, onMount, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import type { PublicUser } from '../../lib/types';
import { AvatarSetting } from '../media/AvatarSetting';
import { Avatar } from '../people/Avatar';

export function Welcome(props: { client: Client; onDone: () => void; onOpenRoom: (id: string) => void }) {
  const c = props.client;
  const [nameStatus, setNameStatus] = createSignal('');
  const [results, setResults] = createSignal<PublicUser[] | null>(null);
  const [error, setError] = createSignal('');
  let heading!: HTMLHeadingElement;
  let timer: ReturnType<typeof setTimeout> | undefined;
  onMount(() => heading.focus());
  const search = (q: string) => {
    clearTimeout(timer);
    if (!q.trim()) return setResults(null);
    timer = setTimeout(async () => {
      try {
        setError('');
        setResults((await c.members.searchUsers(q.trim())).filter((u) => u.id !== c.me?.id));
      } catch (e) {
        setError(friendlyError(e));
      }
    }, 200);
  };
  return (
    <section class="welcome" aria-labelledby="welcome-title" data-testid="onboarding">
      <h2 id="welcome-title" ref={heading} tabindex="-1">
        Welcome to JustUs{c.me?.display_name ? `, ${c.me.display_name}` : ''}
      </h2>
      <p class="welcome-lead">
        Three quick things so people know it’s you — all of them can be changed later in Settings.
      </p>
      <ol class="welcome-steps">
        <li>
          <h3>Your name</h3>
          <form
            class="inline-form"
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
              <input
                name="dn"
                value={c.me?.display_name ?? ''}
                maxLength={64}
                autocomplete="nickname"
                onInput={() => setNameStatus('')}
              />
            </label>
            <button type="submit">Save name</button>
          </form>
          <p class="hint" role="status" data-testid="welcome-name-status">
            {nameStatus()}
          </p>
        </li>
        <li>
          <h3>Your picture</h3>
          <div class="welcome-picture">
            <Show when={c.me}>{(me) => <Avatar client={c} userId={me().id} size={56} />}</Show>
            <AvatarSetting client={c} target="user" />
          </div>
        </li>
        <li>
          <h3>Find people</h3>
          <label>
            Search by username
            <input type="search" placeholder="username" onInput={(e) => search(e.currentTarget.value)} />
          </label>
          <Show when={error()}>
            <p class="error" role="alert">
              {error()}
            </p>
          </Show>
          <Show when={results()}>
            {(list) => (
              <ul class="results welcome-results" aria-label="People found">
                <For each={list()} fallback={<li class="hint">No one by that name yet.</li>}>
                  {(u) => (
                    <li class="person">
                      <Avatar client={c} userId={u.id} size={28} />
                      <span class="person-name">
                        {u.display_name} <small>@{u.username}</small>
                      </span>
                      <button
                        type="button"
                        aria-label={`Message ${u.display_name || u.username}`}
                        onClick={() =>
                          c.rooms.openDm(u.id).then(
                            (id) => props.onOpenRoom(id),
                            (x) => setError(friendlyError(x)),
                          )
                        }
                      >
                        Message
                      </button>
                    </li>
                  )}
                </For>
              </ul>
            )}
          </Show>
        </li>
      </ol>
      <button type="button" class="primary" onClick={props.onDone}>
        Start chatting
      </button>
    </section>
  );
}
