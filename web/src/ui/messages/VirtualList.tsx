import { createEffect, createMemo, createSignal, For, onCleanup, onMount, untrack, type JSX } from 'solid-js';
import { anchorScrollTop, captureAnchor, computeOffsets, windowRange, type Anchor } from '../../lib/virtual';

/**
 * A virtualised vertical list with variable row heights: only the rows in (and near) the
 * viewport are in the DOM. Heights are measured as rows render. The first visible row is kept
 * as an anchor so loading older rows or re-measuring never moves what the user is reading;
 * at the bottom the list follows new rows.
 */
export interface VirtualListControl {
  /** Put the row with this key at the top of the viewport; false if it is not in the list. */
  scrollToKey: (key: string) => boolean;
  /** Whether the top of that row is inside the viewport (reactive: tracks scrolling). */
  inView: (key: string) => boolean;
  /** Go to the newest row and follow new rows again (the user sent a message). */
  scrollToBottom: () => void;
}

export function VirtualList<T>(props: {
  items: T[];
  key: (item: T) => string;
  row: (item: T, index: number) => JSX.Element;
  onNearTop?: () => void;
  /** Near the end of the rows (load newer ones while the list holds a stretch of older history). */
  onNearBottom?: () => void;
  /**
   * Whether the last row is the newest there is (default true). While it is not (a jump far
   * back), reaching the bottom does not follow new rows: pages appended below keep the anchor.
   */
  live?: () => boolean;
  /**
   * Whether a row must be rebuilt: given the item and the one before it (old and new). Rows are
   * keyed, so without a change here a row keeps its DOM (and focus) across list updates.
   */
  same?: (a: T, b: T, prevA: T | undefined, prevB: T | undefined) => boolean;
  estimate?: number;
  label: string;
  ref?: (el: HTMLDivElement) => void;
  /** Receives the list's imperative handle (scroll a row to the top of the viewport). */
  control?: (c: VirtualListControl) => void;
}) {
  const est = props.estimate ?? 64;
  const [heights, setHeights] = createSignal(new Map<string, number>(), { equals: false });
  const [scrollTop, setScrollTop] = createSignal(0);
  const [viewport, setViewport] = createSignal(600);
  let el!: HTMLDivElement;
  let atBottom = true;
  // The viewport height last seen (by a scroll event or the resize observer): a scroll that comes
  // with a new height is the browser clamping after a resize (the composer grew, the "jump to
  // first unread" bar appeared above the list), not the user scrolling away, so it must not
  // stop the list from following new rows.
  let seenHeight = -1;
  let anchor: Anchor | null = null;

  const keys = createMemo(() => props.items.map(props.key));
  const offsets = createMemo(() => computeOffsets(keys(), heights(), est));
  const indexOf = createMemo(() => new Map(keys().map((k, i) => [k, i])));
  const range = createMemo(() => windowRange(offsets(), scrollTop(), viewport()));
  // Keys (strings) drive <For>, so a row survives updates that replace item objects.
  const visible = createMemo(
    () => {
      const [s, e] = range();
      return keys().slice(s, e);
    },
    [] as string[],
    { equals: (a, b) => a.length === b.length && a.every((k, i) => k === b[i]) },
  );
  const same = props.same ?? ((a: T, b: T) => a === b);

  const ro = new ResizeObserver((entries) => {
    const h = heights();
    let changed = false;
    for (const e of entries) {
      const k = (e.target as HTMLElement).dataset.key!;
      const v = Math.ceil((e.target as HTMLElement).offsetHeight);
      if (v && h.get(k) !== v) {
        h.set(k, v);
        changed = true;
      }
    }
    if (changed) setHeights(h);
  });
  onCleanup(() => ro.disconnect());

  const rememberAnchor = () => {
    anchor = captureAnchor(keys(), offsets(), el.scrollTop);
  };

  const live = () => props.live?.() ?? true;
  const nearBottom = () => el.scrollTop + el.clientHeight >= el.scrollHeight - 300;

  const onScroll = () => {
    setScrollTop(el.scrollTop);
    setViewport(el.clientHeight);
    if (el.clientHeight === seenHeight)
      atBottom = untrack(live) && el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
    seenHeight = el.clientHeight;
    rememberAnchor();
    if (el.scrollTop < 300) props.onNearTop?.();
    if (nearBottom()) props.onNearBottom?.();
  };

  // After any change of items or heights: follow the bottom, or keep the anchor in place.
  createEffect(() => {
    const o = offsets();
    const total = o[o.length - 1];
    queueMicrotask(() => {
      if (!el) return;
      if (!untrack(live)) atBottom = false;
      if (atBottom) {
        el.scrollTop = total;
      } else if (anchor) {
        const want = anchorScrollTop(anchor, indexOf(), offsets());
        if (want !== undefined && Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
      setScrollTop(el.scrollTop);
      setViewport(el.clientHeight);
      if (el.scrollTop < 300 && el.scrollHeight <= el.clientHeight + 300) props.onNearTop?.();
      if (!untrack(live) && nearBottom()) props.onNearBottom?.();
    });
  });

  onMount(() => {
    setViewport(el.clientHeight);
    seenHeight = el.clientHeight;
    // The list shrinks when the composer grows (upload chips, reply bar): stay at the bottom.
    const vro = new ResizeObserver(() => {
      setViewport(el.clientHeight);
      seenHeight = el.clientHeight;
      if (atBottom) el.scrollTop = el.scrollHeight;
    });
    vro.observe(el);
    onCleanup(() => vro.disconnect());
    props.ref?.(el);
    props.control?.({
      scrollToKey: (key) => {
        const i = indexOf().get(key);
        if (i === undefined) return false;
        // Anchor on that row: re-measuring the rows around it will not move it.
        atBottom = false;
        anchor = { key, delta: 0 };
        el.scrollTop = offsets()[i];
        setScrollTop(el.scrollTop);
        return true;
      },
      scrollToBottom: () => {
        atBottom = true;
        anchor = null;
        el.scrollTop = el.scrollHeight;
        setScrollTop(el.scrollTop);
      },
      inView: (key) => {
        const i = indexOf().get(key);
        if (i === undefined) return false;
        const top = offsets()[i];
        return top >= scrollTop() - 1 && top < scrollTop() + viewport();
      },
    });
  });

  return (
    <div ref={el} class="vlist" onScroll={onScroll} role="log" aria-label={props.label} aria-live="polite" tabindex="0">
      <div class="vlist-inner" ref={(d) => createEffect(() => (d.style.height = `${offsets()[props.items.length]}px`))}>
        <For each={visible()}>
          {(key) => {
            type Slot = { item: T; prev: T | undefined; index: number } | undefined;
            const slot = createMemo<Slot>(
              () => {
                const i = indexOf().get(key);
                return i === undefined ? undefined : { item: props.items[i], prev: props.items[i - 1], index: i };
              },
              undefined,
              { equals: (a, b) => !!a && !!b && same(a.item, b.item, a.prev, b.prev) },
            );
            return (
              <div
                class="vrow"
                data-key={key}
                ref={(d) => {
                  ro.observe(d);
                  onCleanup(() => ro.unobserve(d));
                  createEffect(() => (d.style.transform = `translateY(${offsets()[indexOf().get(key) ?? 0]}px)`));
                }}
              >
                {(() => {
                  const s = slot();
                  // Only the slot is tracked: what the row reads while rendering must not rebuild it.
                  return s ? untrack(() => props.row(s.item, s.index)) : null;
                })()}
              </div>
            );
          }}
        </For>
      </div>
    </div>
  );
}
