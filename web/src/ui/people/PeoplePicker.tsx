// Choose people for a new group: search by name or username, pick from the results (people
// already chosen, already members, and I are not offered), the chosen ones show as chips that
// remove them. Down from the search field goes to the results.
import { createSignal, For, onCleanup, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { pickable, toggleChosen } from '../../lib/memberPicker';
import type { PublicUser } from '../../lib/types';
import { Icon } from '../common/Icon';
import { Avatar } from './Avatar';

export function PeoplePicker(props: {
  client: Client;
  chosen: PublicUser[];
  onChange: (chosen: PublicUser[]) => void;
  /** Ids not to offer (the room's members). */
  exclude?: ReadonlySet<string>;
  label?: string;
}) {
  const c = props.client;
  const [results, setResults] = createSignal<PublicUser[]>([]);
  const [note, setNote] = createSignal('');
  const [query, setQuery] = createSignal('');
  // The query whose results are shown (so "No one found" waits for the answer).
  const [answered, setAnswered] = createSignal('');
  let input!: HTMLInputElement;
  let list: HTMLUListElement | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const search = (q: string) => {
    setQuery(q);
    clearTimeout(timer);
    if (!q) return setResults([]);
    timer = setTimeout(async () => {
      try {
        const found = await c.members.searchUsers(q);
        if (q !== query()) return;
        setResults(found);
        setAnswered(q);
        setNote('');
      } catch (e) {
        setNote(friendlyError(e));
      }
    }, 200);
  };
  const offered = () => pickable(results(), { chosen: props.chosen, exclude: props.exclude, me: c.me?.id });
  const name = (u: PublicUser) => u.display_name || u.username;
  const choose = (u: PublicUser) => {
    props.onChange(toggleChosen(props.chosen, u));
    input.focus();
  };
  return (
    <div class="people-picker">
      <Show when={props.chosen.length}>
        <ul class="chips" aria-label="Chosen people" data-testid="chosen-people">
          <For each={props.chosen}>
            {(u) => (
              <li class="chip">
                <Avatar client={c} userId={u.id} size={20} />
                <span>{name(u)}</span>
                <button
                  type="button"
                  aria-label={`Remove ${name(u)}`}
                  title={`Remove ${name(u)}`}
                  onClick={() => {
                    props.onChange(props.chosen.filter((x) => x.id !== u.id));
                    input.focus();
                  }}
                >
                  <Icon name="close" size={12} />
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <label>
        {props.label ?? 'Add people'}
        <input
          ref={input}
          type="search"
          placeholder="Name or username"
          autocomplete="off"
          aria-label="Search people to add"
          onInput={(e) => search(e.currentTarget.value.trim())}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' && offered().length) {
              e.preventDefault();
              list?.querySelector('button')?.focus();
            } else if (e.key === 'Enter') {
              // Enter in the search field picks the only result (never submits the form half done).
              e.preventDefault();
              if (offered().length === 1) choose(offered()[0]);
            }
          }}
        />
      </label>
      <Show when={note()}>
        <p class="error" role="alert">
          {note()}
        </p>
      </Show>
      <ul
        class="results"
        aria-label="People found"
        ref={list}
        onKeyDown={(e) => {
          const all = [...(list?.querySelectorAll<HTMLElement>('button') ?? [])];
          const i = all.indexOf(document.activeElement as HTMLElement);
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const n = i + (e.key === 'ArrowDown' ? 1 : -1);
            if (n < 0) input.focus();
            else all[Math.min(n, all.length - 1)]?.focus();
          }
        }}
      >
        <For each={offered()}>
          {(u) => (
            <li>
              <button
                type="button"
                class="person"
                aria-label={`Choose ${name(u)} (@${u.username})`}
                onClick={() => choose(u)}
              >
                <Avatar client={c} userId={u.id} size={24} />
                <span>{name(u)}</span> <small>@{u.username}</small>
              </button>
            </li>
          )}
        </For>
      </ul>
      <Show when={query() && answered() === query() && !offered().length && !note()}>
        <p class="hint" role="status">
          {results().length ? 'Everyone found is already chosen or a member.' : `No one found for “${query()}”.`}
        </p>
      </Show>
    </div>
  );
}
