// A reaction on a message: the emoji and its count; pressing it adds or removes mine. Who reacted
// shows in a tooltip on hover, on keyboard focus and on a long press (touch), and is the chip's
// description for screen readers. Escape hides the tooltip.
import { createSignal, createUniqueId, onCleanup } from 'solid-js';
import { reactorsLine } from '../../lib/reactions';
import type { Reaction } from '../../lib/types';

const HOVER_MS = 350;
const LONG_PRESS_MS = 500;

export function ReactionChip(props: {
  reaction: Reaction;
  me: string | undefined;
  name: (userId: string) => string;
  onToggle: (add: boolean) => void;
  /** I cannot react here now (muted): the chip still names who reacted, a click does nothing. */
  locked?: boolean;
}) {
  const id = createUniqueId();
  const [shown, setShown] = createSignal(false);
  const mine = () => props.reaction.users.includes(props.me ?? '');
  const line = () => reactorsLine(props.reaction, props.name, props.me);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A long press showed the names: the click that ends it must not toggle the reaction.
  let pressed = false;
  // Focus from a click or tap shows nothing (hover or the long press do); from the keyboard it does.
  let byPointer = false;
  // A finger is down on the chip (its long press is ours, not the message's).
  let touching = false;
  const later = (ms: number, fn: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  const hide = () => {
    clearTimeout(timer);
    setShown(false);
  };
  onCleanup(() => clearTimeout(timer));
  return (
    <span class="reaction-wrap">
      <button
        type="button"
        class={`reaction${mine() ? ' on' : ''}`}
        data-testid="reaction"
        aria-pressed={mine()}
        aria-label={
          props.locked
            ? `${props.reaction.emoji} ${props.reaction.count}`
            : `${props.reaction.emoji} ${props.reaction.count}, ${mine() ? 'remove' : 'add'} reaction`
        }
        aria-disabled={props.locked ? 'true' : undefined}
        aria-describedby={id}
        onMouseEnter={() => later(HOVER_MS, () => setShown(true))}
        onMouseLeave={hide}
        onFocus={() => {
          if (!byPointer) setShown(true);
          byPointer = false;
        }}
        onBlur={hide}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && shown()) {
            e.stopPropagation();
            hide();
          }
        }}
        onPointerDown={(e) => {
          byPointer = true;
          if (e.pointerType !== 'touch') return;
          // Not the message's own long press (its action bar).
          e.stopPropagation();
          pressed = false;
          touching = true;
          later(LONG_PRESS_MS, () => {
            pressed = true;
            setShown(true);
          });
        }}
        onPointerUp={() => {
          touching = false;
          clearTimeout(timer);
        }}
        onPointerCancel={() => {
          touching = false;
          clearTimeout(timer);
        }}
        onContextMenu={(e) => {
          // The long press's context menu on touch screens: neither the browser's nor the message's.
          if (pressed || touching) {
            e.preventDefault();
            e.stopPropagation();
            clearTimeout(timer);
            pressed = true;
            setShown(true);
          }
        }}
        onClick={() => {
          if (pressed) {
            pressed = false;
            return;
          }
          hide();
          if (!props.locked) props.onToggle(!mine());
        }}
      >
        {props.reaction.emoji} {props.reaction.count}
      </button>
      <span id={id} role="tooltip" class={`reactors${shown() ? ' shown' : ''}`} data-testid="reactors">
        {line()}
      </span>
    </span>
  );
}
