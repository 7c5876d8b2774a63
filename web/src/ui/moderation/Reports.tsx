// A report queue: a room's (its admins) or every room's (instance admins, roomId null). Open or
// resolved; each report says what (the excerpt kept when it was made), who reported whom and
// why; a message can be jumped to; open ones are resolved as "action taken" or dismissed, with an
// optional note the reporter reads.
import { createResource, createSignal, For, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import { reportStatusLabel, reportSubject } from '../../lib/moderation';
import type { Report } from '../../lib/types';
import { showToast } from '../common/toast';
import { askReason } from './ReasonDialog';

const when = (iso: string) => new Date(iso).toLocaleString();

export function Reports(props: {
  client: Client;
  roomId: string | null;
  onJump?: (roomId: string, messageId: string) => void;
}) {
  const c = props.client;
  const [open, setOpen] = createSignal(true);
  const [list, { refetch }] = createResource(
    () => ({ room: props.roomId, open: open() }),
    async (k) => {
      const all = await c.moderation.reports(k.room, k.open);
      const shown = k.open ? all : all.filter((r) => r.status !== 'open');
      const ids = new Set(shown.flatMap((r) => [r.reporter_id, r.target_user_id]));
      await Promise.all([...ids].map((id) => c.members.ensureUser(id).catch(() => {})));
      return shown;
    },
  );
  const [error, setError] = createSignal('');
  const name = (id: string) => c.members.displayName(id);
  // Rooms I am in by their title; others as the instance queue names them (`rooms`).
  const roomName = (id: string) => {
    const r = c.rooms.get(id);
    if (r) return c.rooms.title(r);
    const named = c.moderation.reportRooms.get(id);
    if (named?.kind === 'dm') return 'a direct message';
    if (named) return named.name ? `“${named.name}”` : 'an unnamed group';
    return 'a conversation that no longer exists';
  };
  const resolve = async (r: Report, actionTaken: boolean) => {
    const a = await askReason({
      title: actionTaken ? 'Resolve: action taken' : 'Dismiss this report?',
      body: actionTaken
        ? 'Say you acted on it (removed the message, muted, removed or banned the person).'
        : 'Nothing needed doing.',
      reasonLabel: 'Note to the reporter (optional)',
      maxLength: 1000,
      confirm: actionTaken ? 'Resolve' : 'Dismiss',
    });
    if (!a) return;
    setError('');
    try {
      await c.moderation.resolve(r.id, actionTaken, a.reason);
      showToast(actionTaken ? 'Report resolved.' : 'Report dismissed.');
      await refetch();
    } catch (e) {
      setError(friendlyError(e));
    }
  };
  return (
    <div class="reports">
      <fieldset class="mod-tabs">
        <legend class="sr-only">Which reports</legend>
        <button type="button" aria-pressed={open()} onClick={() => setOpen(true)}>
          Open
        </button>
        <button type="button" aria-pressed={!open()} onClick={() => setOpen(false)}>
          Resolved
        </button>
      </fieldset>
      <Show when={error() || list.error}>
        <p class="error" role="alert">
          {error() || friendlyError(list.error)}
        </p>
      </Show>
      <ul class="mod-list" aria-label={open() ? 'Open reports' : 'Resolved reports'} data-testid="report-list">
        <For
          each={list() ?? []}
          fallback={
            <li class="empty">{list.loading ? 'Loading…' : open() ? 'No open reports.' : 'No resolved reports.'}</li>
          }
        >
          {(r) => (
            <li data-testid="report">
              <p class="report-subject">{reportSubject(r, name)}</p>
              <p>
                Reported by {name(r.reporter_id)}: <q>{r.reason}</q>
              </p>
              <Show when={props.roomId === null}>
                <p class="hint" data-testid="report-room">
                  In {roomName(r.room_id)}
                </p>
              </Show>
              <Show when={r.status !== 'open'}>
                <p data-testid="report-outcome">
                  {reportStatusLabel(r.status)}
                  {r.resolved_by ? ` by ${name(r.resolved_by)}` : ''}
                  {r.resolution_note ? ` — ${r.resolution_note}` : ''}
                </p>
              </Show>
              <time dateTime={r.created_at}>{when(r.created_at)}</time>
              <div class="row">
                <Show when={r.message_id && props.onJump && c.rooms.has(r.room_id)}>
                  <button type="button" onClick={() => props.onJump?.(r.room_id, r.message_id!)}>
                    Go to message
                  </button>
                </Show>
                <Show when={r.status === 'open'}>
                  <button type="button" onClick={() => void resolve(r, true)}>
                    Action taken…
                  </button>
                  <button type="button" onClick={() => void resolve(r, false)}>
                    Dismiss…
                  </button>
                </Show>
              </div>
            </li>
          )}
        </For>
      </ul>
    </div>
  );
}

/** The reports I made and what came of them (Settings). */
export function MyReports(props: { client: Client }) {
  const c = props.client;
  const [list] = createResource(async () => {
    const all = await c.moderation.myReports();
    await Promise.all(all.map((r) => c.members.ensureUser(r.target_user_id).catch(() => {})));
    return all;
  });
  const name = (id: string) => c.members.displayName(id);
  return (
    <ul class="mod-list" aria-label="My reports" data-testid="my-reports">
      <For
        each={list() ?? []}
        fallback={
          <li class="empty">
            {list.loading ? 'Loading…' : list.error ? friendlyError(list.error) : 'You have not reported anything.'}
          </li>
        }
      >
        {(r) => (
          <li data-testid="my-report">
            <p class="report-subject">{reportSubject(r, name)}</p>
            <p>
              Your reason: <q>{r.reason}</q>
            </p>
            <p data-testid="report-outcome">
              <strong>{reportStatusLabel(r.status)}</strong>
              {r.resolution_note ? ` — ${r.resolution_note}` : ''}
            </p>
            <time dateTime={r.created_at}>{when(r.created_at)}</time>
          </li>
        )}
      </For>
    </ul>
  );
}
