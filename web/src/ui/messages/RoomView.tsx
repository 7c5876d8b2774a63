import { createEffect, createMemo, createSignal, For, onCleanup, Show, untrack } from 'solid-js';
import type { Client } from '../../lib/client';
import { type TimelineItem, tombstoneText } from '../../lib/timeline';
import type { RoomEvent } from '../../lib/types';
import type { OutboxItem } from '../../lib/outbox';
import { systemLine } from '../../lib/systemLines';
import { VirtualList, type VirtualListControl } from './VirtualList';
import { Markdown } from './Markdown';
import { ReactionChip } from './ReactionChip';
import { recent, noteEmojiUse } from '../emoji/recent';
import { EmojiPopover } from '../emoji/EmojiPopover';
import { reactionSpelling } from '../../lib/emoji';
import { Composer } from '../composer/Composer';
import { plain } from '../../lib/markdown';
import { Icon } from '../common/Icon';
import { askConfirm } from '../common/confirm';
import { AiBadge, AiBody, showsEdited, TranslateButton, TranslationBlock } from '../ai/MessageAi';
import { CatchUp } from '../ai/CatchUp';
import { SmartReplies } from '../ai/SmartReplies';
import { Attachments } from '../media/Attachments';
import { uploadQueue, useDrop } from '../media/ComposerMedia';
import { attachmentSummary, mediaFor } from '../../lib/media';
import type { Navigation } from '../navigation';
import { useMessageMenu } from './messageMenu';
import { Avatar } from '../people/Avatar';
import { RoomAvatar } from '../people/RoomAvatar';
import { RoomEmpty } from '../rooms/RoomEmpty';
import { aiFor } from '../../lib/ai';
import { effectiveRetention, retentionLabel } from '../../lib/retention';
import { canDo, isMuted, untilLabel } from '../../lib/moderation';
import { askReason } from '../moderation/ReasonDialog';
import { reportDialog } from '../moderation/report';
import { showToast } from '../common/toast';
import { friendlyError } from '../../lib/errors';
import { useNow } from '../moderation/clock';
import { capitalised, lastSeenText } from '../../lib/lastSeen';

const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = (iso: string) => (iso ? iso.slice(0, 10) : '');
/** A DM's header says whether the other person is here. */
const PRESENCE_LABEL: Record<string, string> = { online: 'Online', idle: 'Away', offline: 'Offline' };

/** A queued edit, delete or reaction, as the message shows it while it waits. */
function pendingLabel(p: OutboxItem): string {
  if (p.kind === 'edit') return 'Saving the edit';
  if (p.kind === 'delete') return 'Deleting';
  return p.add === false ? `Removing ${p.emoji}` : `Adding ${p.emoji}`;
}
/** One that was refused. */
function failedLabel(p: OutboxItem): string {
  if (p.kind === 'edit') return 'Edit not saved.';
  if (p.kind === 'delete') return 'Not deleted.';
  return p.add === false ? `${p.emoji} not removed.` : `${p.emoji} not added.`;
}

/** Move focus to the message before or after this one (rows are in document order). */
function stepFocus(from: HTMLElement, dir: -1 | 1): void {
  const all = [...(from.closest('.vlist')?.querySelectorAll<HTMLElement>('[data-testid="message"]') ?? [])];
  const sorted = all.sort((a, b) => Number(a.dataset.seq) - Number(b.dataset.seq));
  const next = sorted[sorted.indexOf(from) + dir];
  if (next) {
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: 'nearest' });
  }
}

export function RoomView(props: {
  client: Client;
  nav: Navigation;
  roomId: string;
  onPanel: (p: string) => void;
  /** Open a person's profile card. */
  onProfile: (userId: string) => void;
}) {
  const c = props.client;
  // Each of these tracks only what it reads: the room's store entry, this room's timeline and
  // outbox items, this room's typing line. Nothing re-renders the whole view.
  const room = () => c.rooms.get(props.roomId);
  const items = createMemo(() => c.timelines.items(props.roomId));
  const [replyTo, setReplyTo] = createSignal<string | null>(null);
  const [editing, setEditing] = createSignal<string | null>(null);
  const [picker, setPicker] = createSignal<string | null>(null);
  // The full emoji picker for a reaction (from the quick row's "More emoji").
  const [fullPicker, setFullPicker] = createSignal<string | null>(null);
  const [confirming, setConfirming] = createSignal<string | null>(null);
  let loadingOlder = false;
  const [list, setList] = createSignal<VirtualListControl>();
  // Where unread messages started when the room was opened (fixed while the room stays open).
  const unreadFrom = c.rooms.unreadFrom.get(props.roomId);
  const [jumpDismissed, setJumpDismissed] = createSignal(unreadFrom === undefined);
  const firstUnreadKey = createMemo(() =>
    unreadFrom === undefined ? undefined : items().find((it) => it.message.seq >= unreadFrom)?.key,
  );
  // Offer the jump only while the "New messages" line is not on screen.
  const jumpShown = () => {
    if (jumpDismissed()) return false;
    const k = firstUnreadKey();
    return !(k && list()?.inView(k));
  };
  const [jumping, setJumping] = createSignal(false);
  const jump = async () => {
    setJumping(true);
    try {
      const id = await c.timelines.loadToFirstUnread(props.roomId);
      // Let the list render the loaded rows before scrolling to one of them.
      await new Promise((r) => requestAnimationFrame(r));
      if (id && list()?.scrollToKey(id)) setJumpDismissed(true);
    } catch {
      /* offline: the button stays */
    } finally {
      setJumping(false);
    }
  };

  // Jump to a message (a search result, a pin, a reply quote, a message URL): load back to it,
  // bring it to the top of the list, highlight it and give it focus.
  const [highlight, setHighlight] = createSignal<string | null>(null);
  let highlightTimer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(highlightTimer));
  const [jumpNote, setJumpNote] = createSignal('');
  createEffect(() => {
    const t = props.nav.target();
    if (!t || t.roomId !== props.roomId) return;
    untrack(() => void jumpTo(t.messageId, t.seq));
  });
  const jumpTo = async (id: string, seq?: number) => {
    setJumpNote('');
    let held = false;
    try {
      held = await c.timelines.loadUntilHeld(props.roomId, id, seq);
    } catch {
      /* offline: say so below */
    }
    props.nav.clearTarget();
    if (!held) return setJumpNote('That message could not be loaded (deleted, or no connection).');
    await new Promise((r) => requestAnimationFrame(r));
    if (!list()?.scrollToKey(id)) return;
    setHighlight(id);
    clearTimeout(highlightTimer);
    highlightTimer = setTimeout(() => setHighlight(null), 4000);
    await new Promise((r) => requestAnimationFrame(r));
    document
      .querySelector<HTMLElement>(`.room [data-testid="message"][data-id="${id}"]`)
      ?.focus({ preventScroll: true });
  };
  const menu = useMessageMenu();
  /** Admins and the owner remove others' messages (groups only). */
  const amAdmin = () => room()?.kind === 'group' && (room()?.my_role ?? 'member') !== 'member';
  /** A deleted message: by its sender, by an admin, or expired (the message's deleted_by says). */
  const deletedText = tombstoneText;
  /** Pin and unpin: the room's permissions.pin (anyone in a DM). */
  const canPin = () => canDo(room(), 'pin');

  const lastOwnSent = createMemo(() => {
    const it = items();
    for (let i = it.length - 1; i >= 0; i--)
      if (it[i].message.sender_id === c.me?.id && it[i].state === 'sent' && !it[i].system) return it[i].message.id;
    return null;
  });

  const nearTop = async () => {
    if (loadingOlder) return;
    const t = c.timelines.get(props.roomId);
    if (!t.hasMoreBefore || !t.loaded) return;
    loadingOlder = true;
    try {
      await c.timelines.loadOlder(props.roomId);
    } catch {
      /* offline */
    } finally {
      loadingOlder = false;
    }
  };

  // After a jump far back the timeline holds a stretch of older history: newer pages load as
  // the reader nears the bottom, until the live end.
  let loadingNewer = false;
  const detached = () => c.timelines.detached(props.roomId);
  const nearBottom = async () => {
    if (loadingNewer || !detached()) return;
    loadingNewer = true;
    try {
      await c.timelines.loadNewer(props.roomId);
    } catch {
      /* offline */
    } finally {
      loadingNewer = false;
    }
  };
  const toLatest = async () => {
    if (detached()) await c.timelines.backToLatest(props.roomId);
    await new Promise((r) => requestAnimationFrame(r));
    list()?.scrollToBottom();
  };

  const row = (it: TimelineItem, i: number) => {
    const m = it.message;
    const prevItem = items()[i - 1];
    const prev = prevItem?.message;
    const newDay = !prev || day(prev.created_at) !== day(m.created_at);
    const unreadStart = unreadFrom !== undefined && m.seq >= unreadFrom && (!prev || prev.seq < unreadFrom);
    if (it.system) return systemRow(it.system, newDay, unreadStart);
    const grouped =
      !newDay &&
      prev &&
      !prevItem.system &&
      prev.sender_id === m.sender_id &&
      !m.reply_to &&
      Date.parse(m.created_at) - Date.parse(prev.created_at) < 5 * 60_000;
    const mine = m.sender_id === c.me?.id;
    // Rows are kept across updates (see \`same\` below): what can change without the message
    // changing (names, the replied-to message) is read reactively where it is shown, so only
    // that text updates.
    const name = (id: string) => c.members.displayName(id);
    const replied = () => (m.reply_to ? c.timelines.get(props.roomId).get(m.reply_to) : undefined);
    let reactBtn: HTMLButtonElement | undefined;
    let moreBtn: HTMLButtonElement | undefined;
    // Close the reaction picker and give focus back to the button that opened it.
    const closePicker = () => {
      setPicker(null);
      setFullPicker(null);
      reactBtn?.focus();
    };
    /** React with a picked emoji (spelled like a reaction already there, if it is the same one). */
    const reactWith = (e: string) => {
      const emoji = reactionSpelling(
        e,
        m.reactions.map((r) => r.emoji),
      );
      noteEmojiUse(emoji);
      const had = m.reactions.find((r) => r.emoji === emoji)?.users.includes(c.me?.id ?? '');
      if (!had) void c.messages.react(props.roomId, m.id, emoji, true);
    };
    return (
      <div class="msg-wrap">
        <Show when={newDay && m.created_at}>
          <div class="day" role="separator">
            {dayFmt.format(new Date(m.created_at))}
          </div>
        </Show>
        <Show when={unreadStart}>
          <div class="new-line" role="separator" data-testid="unread-line">
            New messages
          </div>
        </Show>
        <article
          class={
            'msg' +
            (grouped ? ' grouped' : '') +
            (mine ? ' mine' : '') +
            (confirming() === m.id || menu.openFor() === m.id || picker() === m.id ? ' keep-actions' : '') +
            ' state-' +
            it.state
          }
          classList={{
            highlight: highlight() === m.id,
            deleting: !!it.pending?.some((p) => p.kind === 'delete' && p.state === 'queued'),
            'mentions-me': !mine && (m.mentions_room || m.mentions.includes(c.me?.id ?? '')),
          }}
          data-testid="message"
          data-id={m.id}
          // Focusable, so every message's actions can be reached by keyboard (text-only ones too);
          // Up and Down move between messages, the context menu key or a long press opens the actions.
          tabindex="0"
          {...menu.handlers(m.id)}
          data-state={it.state}
          data-seq={m.seq}
          aria-label={`${name(m.sender_id)}: ${[plain(m.body), attachmentSummary(m.attachments)].filter(Boolean).join(' ')}`}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && picker() === m.id) {
              e.stopPropagation();
              closePicker();
            } else if (e.key === 'Escape' && menu.openFor() === m.id) {
              e.stopPropagation();
              menu.close(true);
            } else if ((e.key === 'ArrowUp' || e.key === 'ArrowDown') && e.target === e.currentTarget) {
              e.preventDefault();
              stepFocus(e.currentTarget, e.key === 'ArrowUp' ? -1 : 1);
            }
          }}
        >
          <Show when={grouped && m.created_at}>
            <time class="hover-time" dateTime={m.created_at} title={dayFmt.format(new Date(m.created_at))}>
              {timeFmt.format(new Date(m.created_at))}
            </time>
          </Show>
          <Show when={!grouped}>
            <header>
              <button type="button" class="sender" onClick={() => props.onProfile(m.sender_id)}>
                <Avatar client={c} userId={m.sender_id} size={36} />
                {/* Named "<name>, open profile" by text, not aria-label: the visible name is then part of
                    the accessible name (axe: label-content-name-mismatch counts the avatar's initials). */}
                <span aria-hidden="true">{name(m.sender_id)}</span>
                <span class="sr-only">{name(m.sender_id)}, open profile</span>
              </button>
              <AiBadge client={c} userId={m.sender_id} />
              <time dateTime={m.created_at}>{m.created_at ? timeFmt.format(new Date(m.created_at)) : ''}</time>
            </header>
          </Show>
          <Show when={m.reply_to}>
            <button
              type="button"
              class="quote"
              data-testid="reply-quote"
              onClick={() => void props.nav.openRoom(props.roomId, m.reply_to!)}
            >
              <Icon name="quote" size={14} /> <span class="sr-only">Go to the message replied to: </span>
              {(() => {
                const r = replied();
                return r ? `${name(r.sender_id)}: ${plain(r.body).slice(0, 80)}` : 'a message';
              })()}
            </button>
          </Show>
          <Show
            when={!m.deleted_at}
            fallback={
              <p class="deleted" data-testid="deleted-note">
                {deletedText(m)}
              </p>
            }
          >
            <div class="body" data-testid="message-body">
              <AiBody client={c} roomId={props.roomId} message={m}>
                <Markdown text={m.body} me={c.me?.username} />
              </AiBody>
            </div>
            <TranslationBlock client={c} roomId={props.roomId} message={m} />
            <Show when={m.attachments?.length}>
              <Attachments svc={mediaFor(c.api)} items={m.attachments!} />
            </Show>
            <Show when={showsEdited(c, m)}>
              <span class="edited">(edited)</span>
            </Show>
          </Show>
          <Show when={m.reactions.length}>
            <div class="reactions">
              <For each={m.reactions}>
                {(r) => (
                  <ReactionChip
                    reaction={r}
                    me={c.me?.id}
                    name={name}
                    onToggle={(add) => void c.messages.react(props.roomId, m.id, r.emoji, add)}
                    locked={!!mutedUntil()}
                  />
                )}
              </For>
            </div>
          </Show>
          <Show when={it.pending?.length}>
            <div class="pending-actions">
              <For each={it.pending ?? []}>
                {(p) => (
                  <Show
                    when={p.state === 'failed'}
                    fallback={
                      <span class="status" data-testid="pending-action">
                        {pendingLabel(p)}…
                      </span>
                    }
                  >
                    <span class="status failed" role="alert" data-testid="failed-action">
                      {failedLabel(p)}
                      {p.error ? ` ${p.error}` : ''}
                      <button type="button" onClick={() => c.outbox.retry(p.client_id)}>
                        Retry
                      </button>
                      <button type="button" onClick={() => c.outbox.discard(p.client_id)}>
                        Discard
                      </button>
                    </span>
                  </Show>
                )}
              </For>
            </div>
          </Show>
          <Show when={it.state === 'sending'}>
            <span class="status">Sending…</span>
          </Show>
          <Show when={it.state === 'failed'}>
            <span class="status failed" role="alert">
              Not sent.{it.error ? ` ${it.error}` : ''}
              <button type="button" onClick={() => c.outbox.retry(m.client_id)}>
                Retry
              </button>
              <button type="button" onClick={() => c.outbox.discard(m.client_id)}>
                Discard
              </button>
            </span>
          </Show>
          <Show when={it.state === 'sent' && !m.deleted_at}>
            <div class="actions" role="toolbar" aria-label="Message actions" data-testid="message-actions">
              <button type="button" aria-label="Reply" title="Reply" onClick={() => setReplyTo(m.id)}>
                <Icon name="reply" />
              </button>
              <TranslateButton client={c} roomId={props.roomId} message={m} />
              {/* Muted: no reacting or editing until the mute ends (the server would refuse them). */}
              <Show when={!mutedUntil()}>
                <button
                  type="button"
                  ref={reactBtn}
                  aria-label="React"
                  title="React"
                  aria-expanded={picker() === m.id}
                  aria-haspopup="true"
                  onClick={() => setPicker(picker() === m.id ? null : m.id)}
                >
                  <Icon name="react" />
                </button>
              </Show>
              <Show when={canPin()}>
                <button
                  type="button"
                  aria-label={m.pinned ? 'Unpin' : 'Pin'}
                  title={m.pinned ? 'Unpin' : 'Pin'}
                  onClick={() => c.messages.pin(props.roomId, m.id, !m.pinned).catch(() => {})}
                >
                  <Icon name="pin" />
                </button>
              </Show>
              <Show when={!mine}>
                <button
                  type="button"
                  aria-label="Report"
                  title="Report"
                  onClick={() => {
                    setConfirming(m.id);
                    void reportDialog(c, props.roomId, { messageId: m.id }, () =>
                      document.querySelector<HTMLElement>(`[data-id="${m.id}"]`),
                    ).finally(() => setConfirming(null));
                  }}
                >
                  <Icon name="flag" />
                </button>
              </Show>
              <Show when={!mine && amAdmin()}>
                <button
                  type="button"
                  aria-label="Remove message"
                  title="Remove message"
                  onClick={() => {
                    setConfirming(m.id);
                    void askReason({
                      title: 'Remove this message?',
                      body: `${name(m.sender_id)}’s message is removed for everyone and shows as removed by an admin.`,
                      confirm: 'Remove',
                      destructive: true,
                      returnFocus: () => document.querySelector<HTMLElement>(`[data-id="${m.id}"]`),
                    }).then((r) => {
                      setConfirming(null);
                      if (r)
                        c.moderation
                          .removeMessage(props.roomId, m.id, r.reason)
                          .catch((e) => showToast(friendlyError(e)));
                    });
                  }}
                >
                  <Icon name="trash" />
                </button>
              </Show>
              <Show when={mine}>
                <Show when={!mutedUntil()}>
                  <button type="button" aria-label="Edit" title="Edit" onClick={() => setEditing(m.id)}>
                    <Icon name="edit" />
                  </button>
                </Show>
                <button
                  type="button"
                  aria-label="Delete"
                  title="Delete"
                  onClick={() => {
                    // Keep the toolbar shown while asking, so focus can come back to this button.
                    setConfirming(m.id);
                    void askConfirm({
                      title: 'Delete this message?',
                      body: 'It is removed for everyone.',
                      confirm: 'Delete',
                      destructive: true,
                      returnFocus: () =>
                        document.querySelector<HTMLElement>(`[data-id="${m.id}"] button[aria-label="Delete"]`),
                    }).then((ok) => {
                      setConfirming(null);
                      if (ok) void c.messages.remove(props.roomId, m.id);
                    });
                  }}
                >
                  <Icon name="trash" />
                </button>
              </Show>
            </div>
          </Show>
          <Show when={picker() === m.id && !mutedUntil()}>
            <div
              class="picker"
              role="group"
              aria-label="Pick a reaction"
              ref={(d) => queueMicrotask(() => d.querySelector('button')?.focus())}
            >
              <For each={recent()}>
                {(e) => (
                  <button
                    type="button"
                    aria-label={`React ${e}`}
                    onClick={() => {
                      closePicker();
                      reactWith(e);
                    }}
                  >
                    {e}
                  </button>
                )}
              </For>
              <button
                type="button"
                class="more-emoji"
                ref={moreBtn}
                aria-label="More emoji"
                title="More emoji"
                aria-haspopup="dialog"
                aria-expanded={fullPicker() === m.id}
                onClick={() => setFullPicker(fullPicker() === m.id ? null : m.id)}
              >
                <Icon name="plus" size={16} />
              </button>
              <Show when={fullPicker() === m.id && moreBtn}>
                {(anchor) => (
                  <EmojiPopover
                    anchor={anchor()}
                    label="Pick a reaction"
                    onPick={(e) => {
                      setPicker(null);
                      reactWith(e);
                      queueMicrotask(() => reactBtn?.focus());
                    }}
                    onClose={() => setFullPicker(null)}
                  />
                )}
              </Show>
            </div>
          </Show>
          <Show when={lastOwnSent() === m.id}>
            {(() => {
              const seen = () => c.members.seenBy(props.roomId, m.seq);
              return (
                <Show when={seen().length}>
                  <div class="seen" data-testid="seen-by">
                    Seen by{' '}
                    {seen()
                      .map((u) => u.display_name || u.username)
                      .join(', ')}
                  </div>
                </Show>
              );
            })()}
          </Show>
        </article>
      </div>
    );
  };

  /** A membership or room change: one compact line (names follow renames, unknown ones are looked up). */
  const systemRow = (ev: RoomEvent, newDay: boolean, unreadStart: boolean) => {
    for (const id of [ev.actor_id, ev.user_id]) if (id) c.members.ensureUser(id).catch(() => {});
    const text = () => systemLine(ev, (id) => c.members.displayName(id), c.me?.id);
    return (
      <div class="msg-wrap">
        <Show when={newDay && ev.created_at}>
          <div class="day" role="separator">
            {dayFmt.format(new Date(ev.created_at))}
          </div>
        </Show>
        <Show when={unreadStart}>
          <div class="new-line" role="separator" data-testid="unread-line">
            New messages
          </div>
        </Show>
        <Show when={text()}>
          <p class="sys-line" data-testid="system-line" data-seq={ev.seq}>
            <span>{text()}</span>
            <Show when={ev.created_at}>
              <time dateTime={ev.created_at}>{timeFmt.format(new Date(ev.created_at))}</time>
            </Show>
          </p>
        </Show>
      </div>
    );
  };

  // A row is rebuilt only when its message, send state, or what its grouping/separators look at changes.
  const sameRow = (a: TimelineItem, b: TimelineItem, pa: TimelineItem | undefined, pb: TimelineItem | undefined) =>
    a.message === b.message &&
    a.state === b.state &&
    a.pendingKey === b.pendingKey &&
    a.error === b.error &&
    pa?.message.seq === pb?.message.seq &&
    pa?.message.sender_id === pb?.message.sender_id &&
    pa?.message.created_at === pb?.message.created_at;

  const typing = () => c.typing.names(props.roomId);
  const title = () => {
    const r = room();
    return r ? c.rooms.title(r) : '';
  };
  const retention = () => effectiveRetention(room()?.retention_days, aiFor(c).config.retention_days);
  const canPost = () => {
    const r = room();
    return !r?.only_admins_post || r.my_role !== 'member';
  };
  // Muted by an admin (my member row, member.muted, or a refused send): lifted live by
  // member.unmuted, or when the time comes.
  const now = useNow();
  const mutedUntil = () => {
    const u = c.moderation.mutedUntil(props.roomId);
    return u && isMuted(u, now()) ? u : null;
  };
  // A DM's header: the other person's last seen while they are offline (asked when the DM opens;
  // refreshed by Members when a presence frame says they went offline).
  const peerId = () => (room()?.kind === 'dm' ? room()?.dm_peer?.id : undefined);
  createEffect(() => {
    const id = peerId();
    if (id) untrack(() => c.members.loadProfile(id).catch(() => {}));
  });
  const peerStatus = (id: string) => {
    const p = c.members.presence(id) ?? 'offline';
    const seen = c.members.lastSeen(id);
    if (p === 'offline' && seen) return capitalised(lastSeenText(seen, now()));
    return PRESENCE_LABEL[p] ?? 'Offline';
  };
  // A mute that starts closes an edit or a reaction picker in progress.
  createEffect(() => {
    if (!mutedUntil()) return;
    untrack(() => {
      if (editing()) setEditing(null);
      if (picker()) setPicker(null);
    });
  });
  const drop = useDrop(
    (files) => uploadQueue(c, props.roomId).add(files),
    () => canPost() && c.online,
  );

  return (
    <section class="room" aria-label={`Conversation: ${title()}`} {...drop.handlers}>
      <Show when={drop.over()}>
        <div class="drop-hint">{canPost() && c.online ? 'Drop files to attach' : 'Files need a connection'}</div>
      </Show>
      <header class="room-head">
        <button type="button" class="back" aria-label="Back to rooms" onClick={() => c.rooms.open(null)}>
          <Icon name="back" />
        </button>
        <Show when={room()}>{(r) => <RoomAvatar client={c} room={r()} size={36} />}</Show>
        <div class="head-text">
          <h2>{title()}</h2>
          <p class="head-sub" data-testid="room-subtitle">
            <Show
              when={room()?.kind === 'dm' && room()?.dm_peer}
              fallback={
                <>
                  <span data-testid="member-count">
                    {room()?.member_count ?? 0} {room()?.member_count === 1 ? 'member' : 'members'}
                  </span>
                  <Show when={room()?.topic}>
                    <span aria-hidden="true">·</span>
                    <span class="topic">{room()!.topic}</span>
                  </Show>
                </>
              }
            >
              {(peer) => (
                <>
                  <span class={`presence-text ${c.members.presence(peer().id) ?? 'offline'}`} data-testid="dm-presence">
                    {peerStatus(peer().id)}
                  </span>
                  <span aria-hidden="true">·</span>
                  <span>@{peer().username}</span>
                </>
              )}
            </Show>
          </p>
        </div>
        <Show when={retention()}>
          {(d) => (
            <span class="retention" data-testid="retention-note">
              Messages disappear after {retentionLabel(d())}
            </span>
          )}
        </Show>
        <div class="head-actions">
          <button
            type="button"
            onClick={() => props.onPanel('search')}
            aria-label="Search messages"
            title="Search messages"
          >
            <Icon name="search" />
          </button>
          <button
            type="button"
            onClick={() => props.onPanel('pins')}
            aria-label="Pinned messages"
            title="Pinned messages"
          >
            <Icon name="pin" />
          </button>
          <button type="button" onClick={() => props.onPanel('members')} aria-label="Members" title="Members">
            <Icon name="users" />
          </button>
        </div>
      </header>
      <Show when={jumpShown()}>
        <div class="jump-bar">
          <button type="button" onClick={jump} disabled={jumping()}>
            {jumping() ? 'Loading…' : 'Jump to first unread'}
          </button>
          <button type="button" aria-label="Dismiss" title="Dismiss" onClick={() => setJumpDismissed(true)}>
            <Icon name="close" />
          </button>
        </div>
      </Show>
      <Show when={jumpNote()}>
        <p class="jump-note" role="status">
          {jumpNote()}
        </p>
      </Show>
      <Show when={detached()}>
        <div class="jump-bar jump-latest">
          <button type="button" onClick={() => void toLatest()}>
            Jump to latest
          </button>
        </div>
      </Show>
      <CatchUp client={c} roomId={props.roomId} />
      <Show when={room() && !room()!.last_message && items().every((it) => it.system) ? room() : undefined}>
        {(r) => <RoomEmpty client={c} room={r()} onMembers={() => props.onPanel('members')} />}
      </Show>
      <VirtualList
        items={items()}
        key={(it) => it.key}
        row={row}
        same={sameRow}
        onNearTop={nearTop}
        onNearBottom={nearBottom}
        live={() => !detached()}
        label={`Messages in ${title()}`}
        control={setList}
      />
      <div class="typing" aria-live="polite">
        <Show when={typing().length}>
          {typing().join(', ')} {typing().length === 1 ? 'is' : 'are'} typing…
        </Show>
      </div>
      <Show when={canPost()} fallback={<p class="readonly">Only admins can post here.</p>}>
        <Show when={mutedUntil()}>
          {(u) => (
            <p class="muted-banner" role="status" data-testid="muted-banner">
              You are muted in this room until {untilLabel(u(), now())}.
            </p>
          )}
        </Show>
        <Show when={!mutedUntil()}>
          <SmartReplies client={c} roomId={props.roomId} />
        </Show>
        <Composer
          client={c}
          roomId={props.roomId}
          muted={!!mutedUntil()}
          replyTo={replyTo()}
          editing={editing()}
          onCancel={() => {
            setReplyTo(null);
            setEditing(null);
          }}
          onSent={() => (detached() ? void toLatest() : list()?.scrollToBottom())}
          onEditLast={() => {
            const m = c.timelines.get(props.roomId).lastOwn();
            if (m && !mutedUntil()) setEditing(m.id);
          }}
        />
      </Show>
    </section>
  );
}
