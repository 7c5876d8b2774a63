import { createSignal, For, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import type { PublicUser } from '../../lib/types';
import { plain } from '../../lib/markdown';
import { Icon } from '../common/Icon';
import { focusIntoRoom } from '../common/focusRoom';
import { RoomAvatar } from '../people/RoomAvatar';
import { PeoplePicker } from '../people/PeoplePicker';
import { Invitations } from './Invitations';
import { groupNotice } from '../../lib/memberPicker';
import { attachmentSummary } from '../../lib/media';
import { friendlyError } from '../../lib/errors';

export function Sidebar(props: {
  client: Client;
  settingsOpen: boolean;
  onSettings: () => void;
  onOpenRoom: (id: string) => void;
}) {
  const c = props.client;
  const rooms = () => c.rooms.list();
  // One room is the current page, and none while the settings cover it.
  const active = (id: string) => !props.settingsOpen && c.currentRoom === id;
  const [mode, setMode] = createSignal<'none' | 'dm' | 'group' | 'join'>('none');
  const [results, setResults] = createSignal<PublicUser[]>([]);
  const [error, setError] = createSignal('');
  // New group: the people chosen so far, and a note after creating it.
  const [chosen, setChosen] = createSignal<PublicUser[]>([]);
  const [notice, setNotice] = createSignal('');
  let timer: ReturnType<typeof setTimeout> | undefined;

  const search = (q: string) => {
    clearTimeout(timer);
    if (q.trim().length < 1) return setResults([]);
    timer = setTimeout(async () => {
      try {
        setResults(await c.members.searchUsers(q.trim()));
      } catch (e) {
        setError(friendlyError(e));
      }
    }, 200);
  };
  // The three disclosure forms: Escape closes the open one and focus returns to its button.
  const toggles: Record<string, HTMLButtonElement> = {};
  const closeOnEscape = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || mode() === 'none') return;
    e.stopPropagation();
    const b = toggles[mode()];
    setMode('none');
    b?.focus();
  };
  /** The empty state's actions: open that form (its first field takes focus). */
  const start = (m: 'dm' | 'group') => {
    setMode(m);
    queueMicrotask(() => toggles[m]?.closest('nav')?.querySelector<HTMLElement>('.side-form input')?.focus());
  };
  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    setNotice('');
    try {
      await fn();
      setMode('none');
      focusIntoRoom();
    } catch (e) {
      setError(friendlyError(e));
    }
  };

  return (
    <nav class="sidebar" aria-label="Rooms" onKeyDown={closeOnEscape}>
      <header class="side-head">
        <span class="brand">
          <img src="/icons/icon-192.png" alt="" width="24" height="24" />
          JustUs
        </span>
        <button
          type="button"
          onClick={props.onSettings}
          aria-label="Settings"
          title="Settings"
          aria-pressed={props.settingsOpen}
          class={props.settingsOpen ? 'on' : ''}
        >
          <Icon name="settings" />
        </button>
      </header>
      <div class="side-actions">
        <button
          type="button"
          ref={(b) => (toggles.dm = b)}
          onClick={() => setMode(mode() === 'dm' ? 'none' : 'dm')}
          aria-expanded={mode() === 'dm'}
        >
          New message
        </button>
        <button
          type="button"
          ref={(b) => (toggles.group = b)}
          onClick={() => setMode(mode() === 'group' ? 'none' : 'group')}
          aria-expanded={mode() === 'group'}
        >
          New group
        </button>
        <button
          type="button"
          ref={(b) => (toggles.join = b)}
          onClick={() => setMode(mode() === 'join' ? 'none' : 'join')}
          aria-expanded={mode() === 'join'}
        >
          Join
        </button>
      </div>
      <Show when={mode() === 'dm'}>
        <div class="side-form">
          <label>
            Find a person
            <input
              type="search"
              placeholder="username"
              aria-label="Search users by username"
              onInput={(e) => search(e.currentTarget.value)}
              autofocus
            />
          </label>
          <ul class="results" aria-label="People">
            <For each={results()}>
              {(u) => (
                <li>
                  <button type="button" onClick={() => act(() => c.rooms.openDm(u.id))}>
                    {u.display_name} <small>@{u.username}</small>
                  </button>
                </li>
              )}
            </For>
          </ul>
        </div>
      </Show>
      <Show when={mode() === 'group'}>
        <form
          class="side-form"
          aria-label="New group"
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            const people = chosen();
            void act(async () => {
              const r = await c.rooms.createGroup(
                String(f.get('name')),
                String(f.get('topic') ?? ''),
                people.map((u) => u.id),
              );
              setChosen([]);
              setNotice(groupNotice(people, r.invited, r.failed));
            });
          }}
        >
          <label>
            Group name
            <input name="name" required maxLength={100} autofocus />
          </label>
          <label>
            Topic (optional)
            <input name="topic" />
          </label>
          <PeoplePicker client={c} chosen={chosen()} onChange={setChosen} label="Add people (optional)" />
          <button type="submit" class="primary">
            {chosen().length ? `Create group with ${chosen().length + 1} people` : 'Create group'}
          </button>
        </form>
      </Show>
      <Show when={notice()}>
        <p class="hint" role="status">
          {notice()}
        </p>
      </Show>
      <Show when={mode() === 'join'}>
        <form
          class="side-form"
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            const raw = String(f.get('code')).trim();
            const code = raw.includes('/') ? raw.split(/[/#=]/).pop()! : raw;
            void act(() => c.rooms.acceptInvite(code));
          }}
        >
          <label>
            Invite code or link
            <input name="code" required autofocus />
          </label>
          <button type="submit" class="primary">
            Join
          </button>
        </form>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Invitations client={c} onOpenRoom={props.onOpenRoom} />
      <ul class="room-list">
        <For
          each={rooms()}
          fallback={
            <li class="empty-state" data-testid="empty-rooms">
              <h2>Start a conversation</h2>
              <p>You have no conversations yet. Write to one person, or bring a few together in a group.</p>
              <div class="empty-actions">
                <button type="button" class="primary" onClick={() => start('dm')}>
                  Message someone
                </button>
                <button type="button" onClick={() => start('group')}>
                  Create a group
                </button>
              </div>
              <p class="hint">Got an invite link? Open it, or paste it under Join.</p>
            </li>
          }
        >
          {(r) => (
            <li>
              <button
                type="button"
                class={`room-item${active(r.id) ? ' active' : ''}`}
                aria-current={active(r.id) ? 'page' : undefined}
                onClick={() => props.onOpenRoom(r.id)}
                data-testid="room-item"
              >
                <RoomAvatar client={c} room={r} size={36} />
                <span class="room-name">{c.rooms.title(r)}</span>
                <Show
                  when={c.drafts.has(r.id) && !active(r.id)}
                  fallback={
                    <span class="preview">
                      {r.last_message
                        ? r.last_message.deleted_at
                          ? 'Message deleted'
                          : plain(r.last_message.body).slice(0, 60) || attachmentSummary(r.last_message.attachments)
                        : ''}
                    </span>
                  }
                >
                  <span class="preview" data-testid="draft">
                    <span class="draft-mark">Draft:</span> {plain(c.drafts.get(r.id)).slice(0, 60)}
                  </span>
                </Show>
                <span class="badges">
                  <Show when={(r.mentions ?? 0) > 0}>
                    <span class="badge mention" role="img" aria-label={`${r.mentions} mentions`} data-testid="mentions">
                      @{r.mentions}
                    </span>
                  </Show>
                  <Show when={(r.unread ?? 0) > 0}>
                    <span class="badge" role="img" aria-label={`${r.unread} unread`} data-testid="unread">
                      {r.unread}
                    </span>
                  </Show>
                </span>
              </button>
            </li>
          )}
        </For>
      </ul>
    </nav>
  );
}
