// `:shortcode` in the composer: after a colon and two letters, a list of matching emoji (the
// emoji, then `:shortcode:`). Up/Down move, Enter or Tab pick, Escape closes; the textarea keeps
// the focus and points at the active option (combobox pattern). Typing the closing colon of an
// exact shortcode (`:tada:`) puts the emoji in at once. The emoji data is loaded on first use.
import { createSignal, For, type JSX, Show } from 'solid-js';
import {
  closedShortcodeAt,
  insertEmoji,
  rankShortcodes,
  type ShortcodeMatch,
  type ShortcodeQuery,
  shortcodeAt,
  withSkinTone,
} from '../../lib/emoji';

import { noteEmojiUse } from './recent';

const LIST_ID = 'emoji-options';

export function useShortcodeAutocomplete(textarea: () => HTMLTextAreaElement, onChange: () => void) {
  const [query, setQuery] = createSignal<ShortcodeQuery | null>(null);
  const [options, setOptions] = createSignal<ShortcodeMatch[]>([]);
  const [active, setActive] = createSignal(0);
  const open = () => !!query() && options().length > 0;
  let asked = 0;

  const put = (q: ShortcodeQuery, end: number, unicode: string) => {
    const ta = textarea();
    const r = insertEmoji(ta.value, q.start, end, unicode);
    ta.value = r.text;
    ta.setSelectionRange(r.caret, r.caret);
    ta.focus();
    setQuery(null);
    setOptions([]);
    noteEmojiUse(unicode);
    onChange();
  };

  /** After each input or caret move. */
  const update = () => {
    const ta = textarea();
    const caret = ta.selectionStart;
    const collapsed = caret === ta.selectionEnd;
    const closed = collapsed ? closedShortcodeAt(ta.value, caret) : null;
    const q = collapsed && !closed ? shortcodeAt(ta.value, caret) : null;
    setQuery(q);
    setActive(0);
    const n = ++asked;
    if (closed) {
      void import('./picker')
        .then(async (m) => {
          const e = await m.emojiByShortcode(closed.query);
          if (!e || n !== asked) return;
          // Still the same text at the caret?
          const now = textarea();
          if (now.selectionStart !== caret || closedShortcodeAt(now.value, caret)?.start !== closed.start) return;
          put(closed, caret, withSkinTone(e, await m.preferredSkinTone()));
        })
        .catch(() => {});
      return;
    }
    if (!q) return setOptions([]);
    void import('./picker')
      .then(async (m) => {
        const [found, tone] = await Promise.all([m.searchEmoji(q.query), m.preferredSkinTone()]);
        if (n !== asked) return;
        const ranked = rankShortcodes(found, q.query);
        const byCode = new Map(found.map((e) => [e.unicode, e]));
        setOptions(ranked.map((r) => ({ ...r, unicode: withSkinTone(byCode.get(r.unicode) ?? r, tone) })));
      })
      .catch(() => n === asked && setOptions([]));
  };

  const pick = (o: ShortcodeMatch) => {
    const q = query();
    if (!q) return;
    put(q, textarea().selectionStart, o.unicode);
  };

  /** Keys while the list is open; true when the key was used here. */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!open() || e.isComposing) return false;
    const n = options().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      setActive((active() + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      pick(options()[active()]);
    } else if (e.key === 'Escape') {
      setQuery(null);
    } else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  };

  /** ARIA for the textarea while this list is open. */
  // Used only while the list is open (see the mention list's inputProps for why no role).
  const inputProps = (): JSX.TextareaHTMLAttributes<HTMLTextAreaElement> => ({
    'aria-autocomplete': 'list',
    'aria-controls': LIST_ID,
    'aria-activedescendant': `${LIST_ID}-${active()}`,
  });

  const List = () => (
    <Show when={open()}>
      <div class="mention-list emoji-list" id={LIST_ID} role="listbox" aria-label="Emoji">
        <For each={options()}>
          {(o, i) => (
            // biome-ignore lint/a11y/useFocusableInteractive: the textarea keeps the focus and points here (aria-activedescendant)
            <div
              id={`${LIST_ID}-${i()}`}
              role="option"
              aria-selected={i() === active()}
              aria-label={`${o.unicode} :${o.shortcode}:`}
              class={i() === active() ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(o);
              }}
            >
              <span class="emoji-glyph" aria-hidden="true">
                {o.unicode}
              </span>
              <span class="mention-name">:{o.shortcode}:</span>
              <small>{o.annotation}</small>
            </div>
          )}
        </For>
      </div>
    </Show>
  );

  return { update, onKeyDown, inputProps, List, open, close: () => setQuery(null) };
}
