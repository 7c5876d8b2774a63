// Message actions: send, edit, delete and react go through the outbox (kept across reloads while
// offline, done in order, each with a state the timeline shows); pin, pins and search are
// direct. Over the gateway when connected, else REST.
import { ApiError, enc } from '../api';
import { friendlyError } from '../errors';
import { GatewayError } from '../gateway';
import { kindOf, type OutboxItem, PermanentSendError, ReturnedSendError } from '../outbox';
import type { Media, Message, PinList, SearchResult, SearchResults } from '../types';
import type { Client } from './index';

export class Messages {
  constructor(private readonly c: Client) {}

  /** Queue a message: it shows at once (sending) and is delivered exactly once. */
  async send(roomId: string, body: string, replyTo?: string | null, attachments?: Media[]): Promise<OutboxItem> {
    this.c.typing.send(roomId, false);
    return this.c.outbox.enqueue(roomId, body, replyTo, attachments);
  }

  /** The outbox's delivery of one item: a send resolves the message, the others null. */
  async deliver(item: OutboxItem): Promise<Message | null> {
    const kind = kindOf(item);
    if (kind === 'send') return this.deliverSend(item);
    const roomId = item.room_id;
    const id = item.message_id ?? '';
    try {
      if (kind === 'edit') await this.doEdit(roomId, id, item.body);
      else if (kind === 'delete') await this.doRemove(roomId, id);
      else await this.doReact(roomId, id, item.emoji ?? '', item.add !== false);
      return null;
    } catch (e) {
      if (codeOf(e) === 'muted') this.c.moderation.refusedMuted(roomId);
      throw permanentOrNot(e);
    }
  }

  private async deliverSend(item: OutboxItem): Promise<Message> {
    const { api, gateway } = this.c;
    const ids = item.attachments?.map((a) => a.id);
    // With attachments the body may be left out (a photo alone).
    const d = {
      room_id: item.room_id,
      client_id: item.client_id,
      body: ids?.length && !item.body ? undefined : item.body,
      reply_to: item.reply_to ?? undefined,
      attachments: ids?.length ? ids : undefined,
    };
    try {
      if (gateway.connected) {
        const ack = await gateway.request<{ message: Message }>('send', d);
        return ack.message;
      }
      const { room_id: _room, ...body } = d;
      return await api.post<Message>(`/rooms/${item.room_id}/messages`, body);
    } catch (e) {
      const code = codeOf(e);
      if (code === 'slow_mode') {
        this.c.moderation.refusedSlow(item.room_id, (e as ApiError | GatewayError).retryAfterMs);
        // Text only goes back to the composer; with files it waits in the queue (REST retries it).
        if (!item.attachments?.length) throw new ReturnedSendError(friendlyError(e));
      } else if (code === 'muted') this.c.moderation.refusedMuted(item.room_id);
      throw permanentOrNot(e);
    }
  }

  private async op<T>(op: string, d: Record<string, unknown>, rest: () => Promise<T>): Promise<unknown> {
    const gateway = this.c.gateway;
    if (gateway.connected) {
      try {
        return await gateway.request(op, d);
      } catch (e) {
        if (!(e instanceof GatewayError) || !e.transient) throw e;
      }
    }
    return rest();
  }

  /** Queue an edit (done when online, after what was queued before it in the room). */
  async edit(roomId: string, messageId: string, body: string): Promise<void> {
    await this.c.outbox.enqueueAction(roomId, { kind: 'edit', message_id: messageId, body });
  }

  /** Queue a delete. */
  async remove(roomId: string, messageId: string): Promise<void> {
    await this.c.outbox.enqueueAction(roomId, { kind: 'delete', message_id: messageId });
  }

  /** Queue a reaction added or removed. */
  async react(roomId: string, messageId: string, emoji: string, add: boolean): Promise<void> {
    await this.c.outbox.enqueueAction(roomId, { kind: 'react', message_id: messageId, emoji, add });
  }

  private async doEdit(roomId: string, messageId: string, body: string): Promise<void> {
    const res = (await this.op('edit', { room_id: roomId, message_id: messageId, body }, () =>
      this.c.api.patch<Message>(`/rooms/${roomId}/messages/${messageId}`, { body }).then((message) => ({ message })),
    )) as { message?: Message };
    const t = this.c.timelines.get(roomId);
    const cur = t.get(messageId);
    if (res?.message && cur && (!cur.edited_at || (res.message.edited_at ?? '') >= cur.edited_at))
      t.upsert(res.message);
  }

  private async doRemove(roomId: string, messageId: string): Promise<void> {
    await this.op('delete', { room_id: roomId, message_id: messageId }, () =>
      this.c.api.del(`/rooms/${roomId}/messages/${messageId}`),
    );
  }

  private async doReact(roomId: string, messageId: string, emoji: string, add: boolean): Promise<void> {
    const path = `/rooms/${roomId}/messages/${messageId}/reactions/${enc(emoji)}`;
    await this.op('react', { room_id: roomId, message_id: messageId, emoji, add }, () =>
      add ? this.c.api.put(path) : this.c.api.del(path),
    );
  }

  async pin(roomId: string, messageId: string, pin: boolean): Promise<void> {
    if (pin) await this.c.api.put(`/rooms/${roomId}/messages/${messageId}/pin`);
    else await this.c.api.del(`/rooms/${roomId}/messages/${messageId}/pin`);
  }

  async pins(roomId: string): Promise<Message[]> {
    return (await this.c.api.get<PinList>(`/rooms/${roomId}/pins`)).messages;
  }

  async search(q: string, roomId?: string): Promise<SearchResult[]> {
    const r = roomId ? `&room=${roomId}` : '';
    return (await this.c.api.get<SearchResults>(`/search?q=${enc(q)}${r}&limit=30`)).results;
  }
}

const codeOf = (e: unknown): string => (e instanceof ApiError || e instanceof GatewayError ? e.code : '');

/** A refusal (not worth retrying) becomes a PermanentSendError with a sentence; the rest stay as they are. */
function permanentOrNot(e: unknown): unknown {
  if (e instanceof GatewayError && !e.transient) return new PermanentSendError(friendlyError(e));
  if (e instanceof ApiError && !e.transient && e.status !== 401) return new PermanentSendError(friendlyError(e));
  return e;
}
