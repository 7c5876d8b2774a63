import type { Client } from '../../lib/client';

/** The connection banner: it says what is true, including what is waiting to be sent. */
export function connectionText(client: Client): { text: string; kind: 'ok' | 'warn' | 'off' } {
  const n = client.timelines.waiting();
  const waiting = n ? ` — ${n} message${n === 1 ? '' : 's'} waiting to send` : '';
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
