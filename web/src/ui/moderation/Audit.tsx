// The audit log as sentences ("Alice muted Bob for 1 h — flooding"), newest first, a page at a
// time ("Load older"); "Export JSON" downloads every entry (all pages, as the server gave them).
// A room's (its admins) or the whole instance's (roomId null, instance admins).
import { createSignal, For, onMount, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { auditExport, auditLine, auditPeople } from '../../lib/moderation';
import type { AuditEntry } from '../../lib/types';

const PAGE = 25;

export function Audit(props: { client: Client; roomId: string | null; pageSize?: number }) {
  const c = props.client;
  const size = () => props.pageSize ?? PAGE;
  const [entries, setEntries] = createSignal<AuditEntry[]>([]);
  const [more, setMore] = createSignal(true);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const [note, setNote] = createSignal('');
  const name = (id: string) => c.members.displayName(id);
  const known = (list: AuditEntry[]) =>
    Promise.all([...new Set(list.flatMap(auditPeople))].map((id) => c.members.ensureUser(id).catch(() => {})));
  const page = async (before?: string) => {
    const got = await c.moderation.audit(props.roomId, before, size());
    await known(got);
    return got;
  };
  const loadOlder = async () => {
    if (busy()) return;
    setBusy(true);
    setError('');
    try {
      const got = await page(entries().at(-1)?.id);
      setEntries([...entries(), ...got]);
      setMore(got.length === size());
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  };
  onMount(() => void loadOlder());
  const exportAll = async () => {
    setBusy(true);
    setError('');
    setNote('Fetching every entry…');
    try {
      let all = entries();
      let last = more();
      while (last) {
        const got = await c.moderation.audit(props.roomId, all.at(-1)?.id, 200);
        all = [...all, ...got];
        last = got.length === 200;
      }
      const blob = new Blob([auditExport(props.roomId, all, new Date().toISOString())], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `audit-${props.roomId ?? 'instance'}-${new Date().toISOString().slice(0, 10)}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setNote(`Exported ${all.length} ${all.length === 1 ? 'entry' : 'entries'}.`);
    } catch (e) {
      setNote('');
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="audit">
      <div class="row">
        <button type="button" onClick={() => void exportAll()} disabled={busy()}>
          Export JSON
        </button>
      </div>
      <p class="hint" role="status" data-testid="audit-status">
        {note()}
      </p>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <ol class="mod-list" aria-label="Audit log" data-testid="audit-list">
        <For each={entries()} fallback={<li class="empty">{busy() ? 'Loading…' : 'Nothing recorded yet.'}</li>}>
          {(e) => (
            <li data-testid="audit-entry">
              <span>{auditLine(e, name)}</span>
              <time dateTime={e.created_at}>{new Date(e.created_at).toLocaleString()}</time>
            </li>
          )}
        </For>
      </ol>
      <Show when={more() && entries().length > 0}>
        <button type="button" onClick={() => void loadOlder()} disabled={busy()}>
          Load older
        </button>
      </Show>
    </div>
  );
}
