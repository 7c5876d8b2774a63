// `@` in the composer: a list of the room's members matching what follows it (avatar, name,
// username). Up/Down move, Enter or Tab pick, Escape closes; the textarea stays focused and
// points at the active option (combobox pattern), so typing goes on.
import { createSignal, For, type JSX, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { insertMention, type MentionQuery, mentionAt, rankMembers } from '../../lib/mentions';
import { canDo } from '../../lib/moderation';
import type { PublicUser } from '../../lib/types';
import { Avatar } from '../people/Avatar';

const LIST_ID = 'mention-options';
/** The @room entry (not a person). */
const EVERYONE: PublicUser = { id: '@room', username: 'room', display_name: 'Everyone in this room', avatar: null };

export function useMentionAutocomplete(
  client: Client,
  roomId: () => string,
  textarea: () => HTMLTextAreaElement,
  onChange: () => void,
) {
  const [query, setQuery] = createSignal<MentionQuery | null>(null);
  const [active, setActive] = createSignal(0);
  const candidates = (): PublicUser[] => {
    const q = query();
    if (!q) return [];
    const me = client.me?.id;
    const people = (client.members.get(roomId()) ?? []).map((m) => m.user).filter((u) => u.id !== me);
    // @room: in a group, for my role and up from its permissions.mention_room.
    const room = client.rooms.get(roomId());
    if (room?.kind === 'group' && canDo(room, 'mention_room')) people.push(EVERYONE);
    return rankMembers(people, q.query);
  };
  const open = () => candidates().length > 0;

  /** After each input or caret move. */
  const update = () => {
    const ta = textarea();
    const q = ta.selectionStart === ta.selectionEnd ? mentionAt(ta.value, ta.selectionStart) : null;
    setQuery(q);
    setActive(0);
  };

  const pick = (u: PublicUser) => {
    const ta = textarea();
    const q = query();
    if (!q) return;
    const r = insertMention(ta.value, q, ta.selectionStart, u.username);
    ta.value = r.text;
    ta.setSelectionRange(r.caret, r.caret);
    ta.focus();
    setQuery(null);
    onChange();
  };

  /** Keys while the list is open; true when the key was used here. */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!open() || e.isComposing) return false;
    const n = candidates().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      setActive((active() + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter' && candidates()[active()].username.toLowerCase() === query()?.query.toLowerCase()) {
      // The name is already typed out in full: Enter sends, as it would without the list.
      setQuery(null);
      return false;
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      pick(candidates()[active()]);
    } else if (e.key === 'Escape') {
      setQuery(null);
    } else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  };

  /**
   * ARIA for the textarea: a textbox with list autocompletion that controls the list while it is
   * open and points at the active option. Not role=combobox with aria-expanded: a <textarea> may
   * take no role (ARIA in HTML), and axe-core reports both.
   */
  const inputProps = (): JSX.TextareaHTMLAttributes<HTMLTextAreaElement> => ({
    'aria-autocomplete': 'list',
    'aria-controls': open() ? LIST_ID : undefined,
    'aria-activedescendant': open() ? `${LIST_ID}-${active()}` : undefined,
  });

  const List = () => (
    <Show when={open()}>
      <div class="mention-list" id={LIST_ID} role="listbox" aria-label="Mention someone">
        <For each={candidates()}>
          {(u, i) => (
            // biome-ignore lint/a11y/useFocusableInteractive: the textarea keeps the focus and points here (aria-activedescendant)
            <div
              id={`${LIST_ID}-${i()}`}
              role="option"
              aria-selected={i() === active()}
              class={i() === active() ? 'active' : ''}
              // Keep the focus in the textarea: pick on mousedown, before it would blur.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(u);
              }}
            >
              <Show
                when={u !== EVERYONE}
                fallback={
                  <span class="avatar room-avatar everyone" aria-hidden="true">
                    @
                  </span>
                }
              >
                <Avatar client={client} userId={u.id} size={24} />
              </Show>
              <span class="mention-name">{u.display_name || u.username}</span>
              <small>@{u.username}</small>
            </div>
          )}
        </For>
      </div>
    </Show>
  );

  return { update, onKeyDown, inputProps, List, close: () => setQuery(null) };
}
