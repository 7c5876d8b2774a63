import { createResource, createSignal, For, lazy, onMount, Show, Suspense } from 'solid-js';
import type { Client } from '../../lib/client';
import type { Message, PublicUser, SearchResult } from '../../lib/types';
import { ApiError } from '../../lib/api';
import { plain } from '../../lib/markdown';
import { Icon } from '../common/Icon';
import { askConfirm } from '../common/confirm';
import { RoomAiSwitch } from '../ai/RoomAiSwitch';
import { AvatarSetting } from '../media/AvatarSetting';
import { RetentionSetting } from './RetentionSetting';
import { Avatar } from '../people/Avatar';
import { friendlyError } from '../../lib/errors';
import { memberActions, pickable } from '../../lib/memberPicker';
import { type MenuItem, MenuButton } from '../common/Menu';
import { GroupSettings } from '../moderation/GroupSettings';
import { askReason } from '../moderation/ReasonDialog';
import { useNow } from '../moderation/clock';
import { reportDialog } from '../moderation/report';
import { suspendDialog } from '../moderation/suspend';
import { canDo, isMuted, MUTE_CHOICES, MUTE_MAX_MINUTES, untilLabel } from '../../lib/moderation';
import { showToast } from '../common/toast';

// Bans, reports and the audit log: only admins use them, loaded when the panel shows them.
const ModTools = lazy(() => import('../moderation/ModTools'));

/** Open a message: its room, loaded back to it, highlighted. */
type Jump = (roomId: string, messageId: string, seq?: number) => void;

export function Panel(props: {
  client: Client;
  roomId: string;
  kind: string;
  onClose: () => void;
  onJump: Jump;
  onProfile: (userId: string) => void;
}) {
  const c = props.client;
  const [error, setError] = createSignal('');
  const run = (fn: () => Promise<unknown>) => fn().catch((e) => setError(friendlyError(e)));
  const title = () => (props.kind === 'members' ? 'Members' : props.kind === 'pins' ? 'Pinned messages' : 'Search');
  let close!: HTMLButtonElement;
  let body!: HTMLDivElement;
  // Search starts in its query field (Enter searches there); the others on Close.
  onMount(() => (body.querySelector<HTMLElement>('[data-autofocus]') ?? close).focus());
  return (
    <aside
      class="panel"
      aria-label={title()}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          props.onClose();
        }
      }}
    >
      <header>
        <h3>{title()}</h3>
        <button type="button" ref={close} aria-label="Close panel" title="Close" onClick={props.onClose}>
          <Icon name="close" />
        </button>
      </header>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <div ref={body}>
        <Show when={props.kind === 'members'}>
          <Members client={c} roomId={props.roomId} run={run} onProfile={props.onProfile} onJump={props.onJump} />
        </Show>
        <Show when={props.kind === 'pins'}>
          <Pins client={c} roomId={props.roomId} onJump={props.onJump} />
        </Show>
        <Show when={props.kind === 'search'}>
          <Search client={c} roomId={props.roomId} onJump={props.onJump} />
        </Show>
      </div>
    </aside>
  );
}

function Members(props: {
  client: Client;
  roomId: string;
  run: (f: () => Promise<unknown>) => void;
  onProfile: (userId: string) => void;
  onJump: Jump;
}) {
  const c = props.client;
  const members = () => c.members.get(props.roomId) ?? [];
  const room = () => c.rooms.get(props.roomId);
  const myRole = () => room()?.my_role ?? 'member';
  const [invite, setInvite] = createSignal('');
  const now = useNow();
  return (
    <div>
      <Show when={room()?.kind === 'group' && myRole() !== 'member'}>
        <AvatarSetting client={c} target="room" roomId={props.roomId} />
        <GroupSettings client={c} roomId={props.roomId} />
      </Show>
      <RetentionSetting client={c} roomId={props.roomId} />
      <ul class="members">
        <For each={members()}>
          {(m) => {
            const me = m.user.id === c.me?.id;
            const who = () => m.user.display_name || m.user.username;
            const actions = () => memberActions(myRole(), m.role, me);
            const muted = () => isMuted(m.muted_until, now());
            const menuItems = (): MenuItem[] => {
              const items: MenuItem[] = actions().flatMap((a): MenuItem[] => {
                switch (a) {
                  case 'promote':
                    return [
                      {
                        label: 'Make admin',
                        onSelect: () => props.run(() => c.members.setRole(props.roomId, m.user.id, 'admin')),
                      },
                    ];
                  case 'demote':
                    return [
                      {
                        label: 'Remove as admin',
                        onSelect: () => props.run(() => c.members.setRole(props.roomId, m.user.id, 'member')),
                      },
                    ];
                  case 'owner':
                    return [
                      {
                        label: 'Make owner…',
                        onSelect: () =>
                          void askConfirm({
                            title: 'Transfer ownership?',
                            body: `${who()} becomes the owner and you become an admin.`,
                            confirm: 'Make owner',
                            destructive: true,
                          }).then((ok) => ok && props.run(() => c.members.setRole(props.roomId, m.user.id, 'owner'))),
                      },
                    ];
                  case 'mute':
                    return [
                      muted()
                        ? {
                            label: 'Unmute',
                            onSelect: () =>
                              props.run(async () => {
                                await c.moderation.unmute(props.roomId, m.user.id);
                                showToast(`${who()} can post again.`);
                              }),
                          }
                        : {
                            label: 'Mute…',
                            onSelect: () =>
                              void askReason({
                                title: `Mute ${who()}?`,
                                body: 'They can read but not post, react or edit until the mute ends.',
                                confirm: 'Mute',
                                destructive: true,
                                durations: {
                                  label: 'For',
                                  unit: 'minutes',
                                  max: MUTE_MAX_MINUTES,
                                  choices: [...MUTE_CHOICES],
                                },
                              }).then(
                                (r) =>
                                  r &&
                                  props.run(() =>
                                    c.moderation.mute(props.roomId, m.user.id, r.duration ?? 60, r.reason),
                                  ),
                              ),
                          },
                    ];
                  case 'kick':
                    return [
                      {
                        label: 'Remove from group…',
                        destructive: true,
                        onSelect: () =>
                          void askReason({
                            title: `Remove ${who()} from the group?`,
                            body: 'They can be added again later.',
                            confirm: 'Remove',
                            destructive: true,
                          }).then((r) => r && props.run(() => c.members.kick(props.roomId, m.user.id, r.reason))),
                      },
                    ];
                  default: // 'ban'
                    return [
                      {
                        label: 'Ban…',
                        destructive: true,
                        onSelect: () =>
                          void askReason({
                            title: `Ban ${who()}?`,
                            body: `${who()} is removed and cannot rejoin.`,
                            confirm: 'Ban',
                            destructive: true,
                          }).then((r) => r && props.run(() => c.members.ban(props.roomId, m.user.id, r.reason))),
                      },
                    ];
                }
              });
              if (!me)
                items.push({
                  label: 'Report…',
                  onSelect: () => void reportDialog(c, props.roomId, { userId: m.user.id }),
                });
              // Instance admins: the whole account (not themselves; the server refuses other admins).
              if (c.moderation.maySuspend(m.user.id))
                items.push({
                  label: 'Suspend account…',
                  destructive: true,
                  onSelect: () => void suspendDialog(c, m.user.id),
                });
              return items;
            };
            return (
              <li>
                <button type="button" class="member-name" onClick={() => props.onProfile(m.user.id)}>
                  <Avatar client={c} userId={m.user.id} size={28} presence />
                  <span>
                    <span aria-hidden="true">{m.user.display_name || m.user.username}</span>
                    <span class="sr-only">{m.user.display_name || m.user.username}, open profile</span>{' '}
                    <small>
                      @{m.user.username} · {m.role}
                      {c.members.presence(m.user.id) === 'online' ? ' · online' : ''}
                    </small>
                    <Show when={muted()}>
                      <span class="badge muted-badge" data-testid="muted-badge">
                        Muted until {untilLabel(m.muted_until!, now())}
                      </span>
                    </Show>
                  </span>
                </button>
                <Show when={room()?.kind === 'group' && (actions().length || !me)}>
                  <MenuButton label={`Actions for ${who()}`} items={menuItems()} class="member-menu">
                    <Icon name="more" />
                  </MenuButton>
                </Show>
              </li>
            );
          }}
        </For>
      </ul>
      <RoomAiSwitch client={c} roomId={props.roomId} />
      <Show when={room()?.kind === 'group' && myRole() !== 'member'}>
        <Suspense fallback={<p class="hint">Loading moderation tools…</p>}>
          <ModTools client={c} roomId={props.roomId} onJump={(r, m) => props.onJump(r, m)} />
        </Suspense>
      </Show>
      <Show when={room()?.kind === 'group'}>
        <Show when={canDo(room(), 'invite')}>
          <button
            type="button"
            onClick={() =>
              props.run(async () => {
                const i = await c.rooms.createInvite(props.roomId);
                setInvite(i.code);
              })
            }
          >
            Create invite
          </button>
          <Show when={invite()}>
            <p>
              Invite code: <code data-testid="invite-code">{invite()}</code>
              <br />
              Link: <code>{`${location.origin}/invite/${invite()}`}</code>
            </p>
          </Show>
        </Show>
        <Show when={canDo(room(), 'invite')}>
          <AddMember client={c} roomId={props.roomId} run={props.run} />
        </Show>
        <button
          type="button"
          class="danger"
          onClick={() =>
            void askConfirm({ title: 'Leave this group?', confirm: 'Leave group', destructive: true }).then(
              (ok) => ok && props.run(() => c.rooms.leave(props.roomId)),
            )
          }
        >
          Leave group
        </button>
      </Show>
    </div>
  );
}

function AddMember(props: { client: Client; roomId: string; run: (f: () => Promise<unknown>) => void }) {
  const c = props.client;
  const [q, setQ] = createSignal('');
  const [found] = createResource(q, (s) => (s ? c.members.searchUsers(s) : Promise.resolve([])));
  // People already in the room are not offered again.
  const users = () =>
    pickable(found() ?? [], {
      me: c.me?.id,
      exclude: new Set((c.members.get(props.roomId) ?? []).map((m) => m.user.id)),
    });
  // What the last add did: added, or an invitation sent (their `group_adds` setting).
  const [outcome, setOutcome] = createSignal('');
  const add = async (u: PublicUser) => {
    const name = u.display_name || u.username;
    setOutcome('');
    try {
      const r = await c.members.add(props.roomId, u.id);
      setOutcome(r === 'invited' ? `Invitation sent to ${name}. They join when they accept it.` : `${name} was added.`);
    } catch (e) {
      setOutcome(
        e instanceof ApiError && e.code === 'already_invited'
          ? `${name} has already been invited and has not answered yet.`
          : friendlyError(e),
      );
    }
  };
  return (
    <div class="add-member">
      <label>
        Add a member
        <input
          type="search"
          aria-label="Add a member by username"
          onInput={(e) => setQ(e.currentTarget.value.trim())}
        />
      </label>
      <ul class="results">
        <For each={users()}>
          {(u) => (
            <li>
              <button type="button" onClick={() => void add(u)}>
                Add {u.username}
              </button>
            </li>
          )}
        </For>
      </ul>
      <Show when={outcome()}>
        <p class="hint" role="status" data-testid="add-outcome">
          {outcome()}
        </p>
      </Show>
      <Show when={q() && !found.loading && !found.error && !users().length}>
        <p class="hint" role="status" data-testid="add-member-status">
          {found()?.length ? `Everyone found for “${q()}” is already a member.` : `No one found for “${q()}”.`}
        </p>
      </Show>
    </div>
  );
}

function Pins(props: { client: Client; roomId: string; onJump: Jump }) {
  const [pins] = createResource(
    () => props.roomId,
    (id) => props.client.messages.pins(id),
  );
  return (
    <ul class="pins jump-list">
      <For each={pins() ?? []} fallback={<li class="empty">{pins.loading ? 'Loading…' : 'No pinned messages.'}</li>}>
        {(m: Message) => (
          <li>
            <button type="button" onClick={() => props.onJump(m.room_id, m.id, m.seq)} data-testid="pin">
              <strong>{props.client.members.displayName(m.sender_id)}</strong>: {plain(m.body)}
            </button>
          </li>
        )}
      </For>
    </ul>
  );
}

function Search(props: { client: Client; roomId: string; onJump: Jump }) {
  const c = props.client;
  const [query, setQuery] = createSignal<{ q: string; all: boolean } | null>(null);
  const [res] = createResource(query, (s) => c.messages.search(s.q, s.all ? undefined : props.roomId));
  const results = (): SearchResult[] => (res.error ? [] : (res() ?? []));
  const roomName = (id: string) => {
    const r = c.rooms.get(id);
    return r ? c.rooms.title(r) : '';
  };
  return (
    <div class="search">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const q = String(f.get('q')).trim();
          setQuery(q ? { q, all: f.get('all') === 'on' } : null);
        }}
      >
        <label>
          Search messages
          <input name="q" type="search" data-autofocus enterkeyhint="search" />
        </label>
        <label class="check">
          <input name="all" type="checkbox" /> In all my conversations
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <p class="hint" role="status" data-testid="search-status">
        {res.error
          ? friendlyError(res.error)
          : res.loading
            ? 'Searching…'
            : query() && !results().length
              ? `No messages match “${query()!.q}”. Try fewer or different words.`
              : query()
                ? `${results().length} result${results().length === 1 ? '' : 's'}`
                : ''}
      </p>
      <ul class="search-results jump-list">
        <For each={results()}>
          {(r) => (
            <li>
              <button type="button" onClick={() => props.onJump(r.room_id, r.message.id, r.message.seq)}>
                <Show when={r.room_id !== props.roomId}>
                  <small class="result-room">{roomName(r.room_id)}</small>
                </Show>
                <strong>{c.members.displayName(r.message.sender_id)}</strong>:{' '}
                <For each={r.snippet}>{(p) => (p.highlight ? <mark>{p.text}</mark> : p.text)}</For>
              </button>
            </li>
          )}
        </For>
      </ul>
    </div>
  );
}
