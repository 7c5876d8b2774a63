import { createEffect, createSignal, on, onMount, Show, untrack } from 'solid-js';
import type { Client } from '../../lib/client';
import { plain } from '../../lib/markdown';
import { Icon } from '../common/Icon';
import { useMentionAutocomplete } from './mentionAutocomplete';
import { AttachControls, pastedFiles, uploadQueue, UploadChips, useUploads } from '../media/ComposerMedia';
import { useShortcodeAutocomplete } from '../emoji/shortcodeAutocomplete';
import { EmojiPopover } from '../emoji/EmojiPopover';
import { noteEmojiUse } from '../emoji/recent';
import { insertEmoji } from '../../lib/emoji';
import { countdownLabel, secondsLeft, slowModeApplies, slowModeNote } from '../../lib/moderation';
import { useNow } from '../moderation/clock';

/** Enter sends, Shift+Enter adds a line, Up edits the last own message, Esc cancels. */
export function Composer(props: {
  client: Client;
  roomId: string;
  replyTo: string | null;
  editing: string | null;
  onCancel: () => void;
  onEditLast: () => void;
  /** A new message was queued (the list goes to the bottom to show it). */
  onSent?: () => void;
  /** Muted by an admin: nothing can be written (the room shows why). */
  muted?: boolean;
}) {
  const c = props.client;
  let ta!: HTMLTextAreaElement;
  const editingMsg = () => (props.editing ? c.timelines.get(props.roomId).get(props.editing) : undefined);
  const replyMsg = () => (props.replyTo ? c.timelines.get(props.roomId).get(props.replyTo) : undefined);
  // Attachments: uploaded as soon as they are added; their ids go with the next message.
  const queue = uploadQueue(c, props.roomId);
  const uploads = useUploads(queue);
  const online = () => c.online;
  const [hint, setHint] = createSignal('');
  // Send pressed while files were still uploading: send once they are all in (unless one failed).
  const [sendWhenReady, setSendWhenReady] = createSignal(false);
  createEffect(() => {
    const items = uploads();
    if (!sendWhenReady() || items.some((i) => i.state === 'uploading' || i.state === 'processing')) return;
    setSendWhenReady(false);
    if (items.some((i) => i.state === 'failed')) setHint('A file was not accepted: remove it, then send.');
    else void submit();
  });

  // Only when editing starts (or moves to another message): later changes in the room must not
  // overwrite the text being edited.
  createEffect(
    on(
      () => props.editing,
      () => {
        const m = untrack(editingMsg);
        if (m) {
          ta.value = m.body;
          ta.focus();
        }
      },
    ),
  );
  createEffect(() => {
    if (props.replyTo) ta.focus();
  });
  // The room's draft comes back when the room opens (after a switch or a reload).
  onMount(() => {
    ta.value = c.drafts.get(props.roomId);
  });
  /** Editing ended: the draft that was there before comes back. */
  const restoreDraft = () => {
    ta.value = c.drafts.get(props.roomId);
  };

  // Slow mode: after a send, the next one waits (the text stays in the box meanwhile).
  const now = useNow();
  const room = () => c.rooms.get(props.roomId);
  const slowNote = () => slowModeNote(room()?.slow_mode_seconds);
  const exempt = () => !slowModeApplies(room()?.slow_mode_seconds, room()?.my_role);
  const wait = () => secondsLeft(c.moderation.nextSendAt(props.roomId), now());
  // A message refused by slow mode comes back to the draft: show it.
  createEffect(
    on(
      () => c.moderation.trackReturned(props.roomId),
      () => {
        if (!props.editing) ta.value = c.drafts.get(props.roomId);
      },
      { defer: true },
    ),
  );

  const submit = async () => {
    const body = ta.value.trim();
    const ed = props.editing;
    if (props.muted) return;
    if (!ed && wait() > 0) {
      ta.focus();
      return;
    }
    if (!ed && queue.busy) {
      setSendWhenReady(true);
      return setHint('Sending when the uploads finish…');
    }
    setHint('');
    const attachments = ed ? [] : queue.ready;
    if (!body && !attachments.length) return;
    ta.value = '';
    if (ed) {
      c.typing.send(props.roomId, false);
      props.onCancel();
      restoreDraft();
      await c.messages.edit(props.roomId, ed, body).catch(() => {});
      return;
    }
    c.drafts.put(props.roomId, '');
    const reply = props.replyTo;
    props.onCancel();
    queue.take();
    const sent = c.messages.send(props.roomId, body, reply, attachments);
    c.moderation.noteSent(props.roomId);
    props.onSent?.();
    await sent;
  };

  const saveDraft = () => {
    if (!props.editing) c.drafts.put(props.roomId, ta.value);
  };
  const mention = useMentionAutocomplete(
    c,
    () => props.roomId,
    () => ta,
    saveDraft,
  );

  const shortcode = useShortcodeAutocomplete(() => ta, saveDraft);
  // The emoji picker: what is picked goes in at the caret (or over the selection).
  const [emojiOpen, setEmojiOpen] = createSignal(false);
  let emojiBtn!: HTMLButtonElement;
  const insertPicked = (unicode: string) => {
    const r = insertEmoji(ta.value, ta.selectionStart, ta.selectionEnd, unicode);
    ta.value = r.text;
    ta.focus();
    ta.setSelectionRange(r.caret, r.caret);
    noteEmojiUse(unicode);
    saveDraft();
  };

  // The textarea controls whichever list is open and points at its active option.
  const comboProps = () => (shortcode.open() ? shortcode.inputProps() : mention.inputProps());

  const onKey = (e: KeyboardEvent) => {
    if (shortcode.onKeyDown(e)) return;
    if (mention.onKeyDown(e)) return;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape') {
      if (props.editing) restoreDraft();
      props.onCancel();
    } else if (e.key === 'ArrowUp' && ta.value === '' && !props.editing) {
      e.preventDefault();
      props.onEditLast();
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Show when={editingMsg() || replyMsg()}>
        <div class="composer-ctx">
          <span>
            {editingMsg()
              ? 'Editing message'
              : `Replying to ${c.members.displayName(replyMsg()!.sender_id)}: ${plain(replyMsg()!.body).slice(0, 60)}`}
          </span>
          <button
            type="button"
            aria-label={props.editing ? 'Cancel editing' : 'Cancel reply'}
            title="Cancel"
            onClick={() => {
              if (props.editing) restoreDraft();
              props.onCancel();
            }}
          >
            <Icon name="close" size={14} />
          </button>
        </div>
      </Show>
      <UploadChips queue={queue} items={uploads()} />
      <mention.List />
      <shortcode.List />
      <label class="sr-only" for="composer-input">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ta}
        rows={1}
        placeholder={props.muted ? 'You are muted in this room' : 'Write a message…'}
        disabled={props.muted}
        aria-label="Message"
        onKeyDown={onKey}
        onInput={() => {
          c.typing.send(props.roomId, ta.value.length > 0);
          saveDraft();
          mention.update();
          shortcode.update();
        }}
        onClick={() => {
          mention.update();
          shortcode.update();
        }}
        onBlur={() => {
          mention.close();
          shortcode.close();
        }}
        {...comboProps()}
        onPaste={(e) => {
          const f = pastedFiles(e);
          if (f.length) {
            if (online()) queue.add(f);
            else setHint('Files need a connection; text messages still queue while offline.');
          }
        }}
      />
      <button
        type="submit"
        class="primary"
        aria-label={props.editing ? 'Save edit' : 'Send'}
        disabled={props.muted}
        aria-disabled={!props.editing && wait() > 0}
      >
        {props.editing ? 'Save' : 'Send'}
      </button>
      <div class="composer-tools">
        <button
          type="button"
          class="icon-btn"
          ref={emojiBtn}
          aria-label="Insert emoji"
          title="Insert emoji"
          aria-haspopup="dialog"
          aria-expanded={emojiOpen()}
          onClick={() => setEmojiOpen(!emojiOpen())}
        >
          <Icon name="react" />
        </button>
        <Show when={emojiOpen()}>
          <EmojiPopover
            anchor={emojiBtn}
            label="Insert emoji"
            onPick={insertPicked}
            onClose={() => setEmojiOpen(false)}
          />
        </Show>
        <AttachControls client={c} online={online} queue={queue} />
      </div>
      <Show when={hint()}>
        <span class="media-note" role="status">
          {hint()}
        </span>
      </Show>
      <Show when={slowNote() && !props.muted}>
        <p class="slow-note" data-testid="slow-mode-note">
          {slowNote()}
          {exempt() ? ' (admins are exempt)' : ''}
          <Show when={wait() > 0}>
            {' · '}
            <span class="slow-wait" data-testid="slow-mode-wait">
              {countdownLabel(wait())}
            </span>
          </Show>
        </p>
      </Show>
    </form>
  );
}
