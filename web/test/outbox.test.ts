import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  IdbOutboxStorage,
  MemoryOutboxStorage,
  Outbox,
  PermanentSendError,
  ReturnedSendError,
  type OutboxItem,
} from '../src/lib/outbox';
import type { Message } from '../src/lib/types';

function msg(i: OutboxItem, seq: number): Message {
  return {
    id: `m${seq}`,
    room_id: i.room_id,
    seq,
    sender_id: 'me',
    client_id: i.client_id,
    body: i.body,
    reply_to: null,
    forwarded: null,
    mentions: [],
    mentions_room: false,
    pinned: false,
    reactions: [],
    created_at: '',
    edited_at: null,
    deleted_at: null,
    deleted_by: null,
    attachments: [],
  };
}

/** A fake server: idempotent by client_id, like POST /rooms/{id}/messages. */
function fakeServer() {
  const byClient = new Map<string, Message>();
  const log: string[] = [];
  let seq = 0;
  let online = true;
  let loseAcks = 0;
  return {
    log,
    byClient,
    setOnline(v: boolean) {
      online = v;
    },
    loseNextAcks(n: number) {
      loseAcks = n;
    },
    async send(i: OutboxItem): Promise<Message> {
      await new Promise((r) => setTimeout(r, 1));
      if (!online) throw new Error('offline');
      let m = byClient.get(i.client_id);
      if (!m) {
        m = msg(i, ++seq);
        byClient.set(i.client_id, m);
        log.push(i.body);
      }
      if (loseAcks > 0) {
        loseAcks--;
        throw new Error('ack lost');
      }
      return m;
    },
  };
}

describe('outbox', () => {
  it('sends in order per room, exactly once, across offline periods and lost acks', async () => {
    const server = fakeServer();
    let online = false;
    server.setOnline(false);
    const storage = new MemoryOutboxStorage();
    const sent: string[] = [];
    const ob = new Outbox(storage, {
      send: (i) => server.send(i),
      canSend: () => online,
      onSent: (i) => sent.push(i.body),
    });
    await ob.enqueue('r1', 'one');
    await ob.enqueue('r1', 'two');
    await ob.enqueue('r1', 'three');
    expect(ob.waiting).toBe(3);
    expect(server.log).toEqual([]);
    online = true;
    server.setOnline(true);
    server.loseNextAcks(1); // the first send commits but its answer is lost
    await ob.flush();
    await ob.flush();
    await ob.flush();
    expect(server.log).toEqual(['one', 'two', 'three']);
    expect(sent).toEqual(['one', 'two', 'three']);
    expect(ob.waiting).toBe(0);
    expect(storage.items.size).toBe(0);
    ob.dispose();
  });

  it('survives a reload (IndexedDB) and keeps client_ids', async () => {
    const storage = new IdbOutboxStorage();
    const a = new Outbox(storage, { send: () => Promise.reject(new Error('offline')), canSend: () => false });
    const x = await a.enqueue('r1', 'first');
    const y = await a.enqueue('r1', 'second');
    a.dispose();
    // "Reload": a new outbox over the same database.
    const server = fakeServer();
    const b = new Outbox(new IdbOutboxStorage(), { send: (i) => server.send(i) });
    await b.load();
    expect(b.list().map((i) => i.client_id)).toEqual([x.client_id, y.client_id]);
    await b.flush();
    expect(server.log).toEqual(['first', 'second']);
    expect([...server.byClient.keys()]).toEqual([x.client_id, y.client_id]);
    expect(await new IdbOutboxStorage().all()).toEqual([]);
    b.dispose();
  });

  it('never sends one item twice concurrently', async () => {
    const server = fakeServer();
    let calls = 0;
    const ob = new Outbox(new MemoryOutboxStorage(), {
      send: (i) => {
        calls++;
        return server.send(i);
      },
    });
    await ob.enqueue('r1', 'a');
    await Promise.all([ob.flush(), ob.flush(), ob.flush()]);
    await ob.flush();
    expect(calls).toBe(1);
    ob.dispose();
  });

  it('marks refused messages failed and lets later ones through; retry resends', async () => {
    const server = fakeServer();
    let refuse = true;
    const ob = new Outbox(new MemoryOutboxStorage(), {
      send: (i) => (refuse && i.body === 'bad' ? Promise.reject(new PermanentSendError('too_long')) : server.send(i)),
    });
    const bad = await ob.enqueue('r1', 'bad');
    await ob.enqueue('r1', 'good');
    await ob.flush();
    expect(server.log).toEqual(['good']);
    expect(ob.list()[0].state).toBe('failed');
    refuse = false;
    await ob.retry(bad.client_id);
    await ob.flush();
    expect(server.log).toEqual(['good', 'bad']);
    ob.dispose();
  });
});

describe('outbox actions', () => {
  it('edits, deletes and reactions wait offline, survive a reload, and replay in writing order after the sends before them', async () => {
    const storage = new IdbOutboxStorage();
    for (const i of await storage.all()) await storage.delete(i.client_id);
    const a = new Outbox(storage, { send: () => Promise.reject(new Error('offline')), canSend: () => false });
    await a.enqueue('r1', 'hello');
    await a.enqueueAction('r1', { kind: 'edit', message_id: 'm1', body: 'hello again' });
    await a.enqueueAction('r1', { kind: 'react', message_id: 'm1', emoji: '👍', add: true });
    await a.enqueueAction('r2', { kind: 'delete', message_id: 'm9' });
    await a.enqueueAction('r1', { kind: 'react', message_id: 'm1', emoji: '👍', add: false });
    a.dispose();
    // A reload: a new outbox over the same storage, back online.
    const done: string[] = [];
    const b = new Outbox(new IdbOutboxStorage(), {
      send: async (i) => {
        done.push(`${i.room_id}:${i.kind ?? 'send'}:${i.body}${i.emoji ?? ''}${i.add === false ? '-' : ''}`);
        return null;
      },
    });
    await b.load();
    expect(b.list().map((i) => i.kind ?? 'send')).toEqual(['send', 'edit', 'react', 'delete', 'react']);
    await b.flush();
    expect(done.filter((d) => d.startsWith('r1'))).toEqual([
      'r1:send:hello',
      'r1:edit:hello again',
      'r1:react:👍',
      'r1:react:👍-',
    ]);
    expect(done).toContain('r2:delete:');
    expect(b.waiting).toBe(0);
    expect(await new IdbOutboxStorage().all()).toEqual([]);
  });

  it('a refused action is kept as failed (the next ones go on), and a retry does it again', async () => {
    let refuse = true;
    const done: string[] = [];
    const ob = new Outbox(new MemoryOutboxStorage(), {
      send: async (i) => {
        if (refuse && i.kind === 'edit') throw new PermanentSendError('This message can no longer be edited.');
        done.push(i.kind ?? 'send');
        return null;
      },
    });
    const edit = await ob.enqueueAction('r', { kind: 'edit', message_id: 'm', body: 'x' });
    await ob.enqueueAction('r', { kind: 'delete', message_id: 'm' });
    await ob.flush();
    expect(done).toEqual(['delete']);
    expect(ob.list().map((i) => `${i.kind}:${i.state}:${i.error}`)).toEqual([
      'edit:failed:This message can no longer be edited.',
    ]);
    refuse = false;
    await ob.retry(edit.client_id);
    await ob.flush();
    expect(done).toEqual(['delete', 'edit']);
    expect(ob.waiting).toBe(0);
  });
});

describe('a send given back (slow mode)', () => {
  it('leaves the queue, is handed back once, and the next item still goes', async () => {
    const returned: string[] = [];
    const sent: string[] = [];
    const ob = new Outbox(new MemoryOutboxStorage(), {
      send: async (i) => {
        if (i.body === 'too soon') throw new ReturnedSendError('slow mode');
        sent.push(i.body);
        return msg(i, sent.length);
      },
      onReturned: (i) => returned.push(i.body),
    });
    await ob.enqueue('r', 'too soon');
    await ob.enqueue('r', 'later');
    await ob.flush();
    expect(returned).toEqual(['too soon']);
    expect(sent).toEqual(['later']);
    expect(ob.list('r')).toEqual([]);
  });
});
