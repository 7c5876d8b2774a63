import type { Client } from '../../lib/client';
import { kindOf } from '../../lib/outbox';

/** "2 messages and 1 change": what the outbox holds (new messages; edits, deletes, reactions). */
function waitingWhat(client: Client): string {
  if (!client.timelines.waiting()) return '';
  const all = client.outbox.list();
  const sends = all.filter((i) => kindOf(i) === 'send').length;
  const changes = all.length - sends;
  const parts = [
    sends ? `${sends} message${sends === 1 ? '' : 's'}` : '',
    changes ? `${changes} change${changes === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return parts.join(' and ');
}

/** The connection banner: it says what is true, including what is waiting to be sent. */
export function connectionText(client: Client): { text: string; kind: 'ok' | 'warn' | 'off' } {
  const n = client.timelines.waiting();
  const what = waitingWhat(client);
  const waiting = what ? ` — ${what} waiting to send` : '';
  if (!client.online) return { text: `Offline${waiting}`, kind: 'off' };
  if (client.conn === 'connected') return { text: `Connected${n ? ` — sending ${n}…` : ''}`, kind: 'ok' };
  if (client.conn === 'connecting' || client.conn === 'idle') return { text: `Connecting…${waiting}`, kind: 'warn' };
  return { text: `Reconnecting…${waiting}`, kind: 'warn' };
}

export function Banner(props: { client: Client }) {
  const s = () => connectionText(props.client);
  return (
    <div class={`banner banner-${s().kind}`} role="status" aria-live="polite" data-testid="banner">
      {s().text}
    </div>
  );
}
