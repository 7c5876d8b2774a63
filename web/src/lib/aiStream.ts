// The assistant's streamed replies (docs/protocol.md, `ai.delta`): deltas are a best-effort
// preview appended in `index` order; the final `message.edited` is the truth and replaces it.
import type { Message } from './types';

export interface AiDelta {
  room_id: string;
  message_id: string;
  index: number;
  delta: string;
}

/** The bot's placeholder body while it has not answered yet. */
export const AI_PLACEHOLDER = '…';

interface Stream {
  parts: Map<number, string>;
  /** The text of the contiguous prefix 0..next-1. */
  text: string;
  next: number;
}

export class AiStreams {
  private streams = new Map<string, Stream>();

  constructor(private readonly max = 20) {}

  /** Adds one frame. Returns true when the visible preview changed. */
  add(d: AiDelta): boolean {
    if (
      !d ||
      typeof d.message_id !== 'string' ||
      !Number.isInteger(d.index) ||
      d.index < 0 ||
      typeof d.delta !== 'string'
    )
      return false;
    let s = this.streams.get(d.message_id);
    if (!s) {
      s = { parts: new Map(), text: '', next: 0 };
      this.streams.set(d.message_id, s);
      // Streams are settled when their message is shown edited; ones never shown are dropped
      // oldest first, so a long session keeps only a few.
      while (this.streams.size > this.max) this.streams.delete(this.streams.keys().next().value!);
    }
    if (d.index < s.next || s.parts.has(d.index)) return false; // a duplicate
    s.parts.set(d.index, d.delta);
    let changed = false;
    // Append everything now contiguous; a gap waits (for the missing frame or the final edit).
    while (s.parts.has(s.next)) {
      s.text += s.parts.get(s.next)!;
      s.parts.delete(s.next);
      s.next++;
      changed = true;
    }
    return changed;
  }

  /** The preview text for a message, if any deltas arrived. */
  preview(messageId: string): string | undefined {
    return this.streams.get(messageId)?.text;
  }

  /** Whether frames after a gap are waiting (the preview stopped until the edit). */
  hasGap(messageId: string): boolean {
    return (this.streams.get(messageId)?.parts.size ?? 0) > 0;
  }

  /** Forget a stream (its final edit arrived, or the message is gone). */
  settle(messageId: string): void {
    this.streams.delete(messageId);
  }

  get size(): number {
    return this.streams.size;
  }
}

export interface BotBodyView {
  /** What to show as the body. */
  text: string;
  /** Still being written: show a typing caret. */
  streaming: boolean;
}

/**
 * What a bot message shows: once edited (the final answer) or deleted, its body; before that,
 * the streamed preview, or the placeholder while nothing arrived yet.
 */
export function botBody(
  m: Pick<Message, 'body' | 'edited_at' | 'deleted_at'>,
  preview: string | undefined,
): BotBodyView {
  if (m.edited_at || m.deleted_at) return { text: m.body, streaming: false };
  if (m.body !== AI_PLACEHOLDER) return { text: m.body, streaming: false };
  return { text: preview ?? '', streaming: true };
}
