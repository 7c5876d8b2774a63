// Group settings for admins and the owner (members panel): slow mode, who may post, and who may
// add people, pin and mention @room (the least role; nobody picks a role above their own or
// changes a setting that is above it, so those choices are disabled and say why). The room's
// fields come back through room.updated, so the controls show what the server has.
import { createSignal, For, Show } from 'solid-js';
import { ApiError } from '../../lib/api';
import type { Client } from '../../lib/client';
import { friendlyError } from '../../lib/errors';
import {
  PERMISSION_KEYS,
  PERMISSION_LABELS,
  type PermissionKey,
  parseDuration,
  permissionChoiceAllowed,
  permissionEditable,
  permissionOf,
  ROLE_CHOICES,
  SLOW_MODE_CHOICES,
  SLOW_MODE_MAX,
  slowModeChoiceLabel,
} from '../../lib/moderation';
import type { Role } from '../../lib/types';
import './moderation.css';

export function GroupSettings(props: { client: Client; roomId: string }) {
  const c = props.client;
  const room = () => c.rooms.get(props.roomId);
  const slow = () => room()?.slow_mode_seconds ?? 0;
  const [custom, setCustom] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const [saved, setSaved] = createSignal('');
  const run = async (f: () => Promise<void>, note: string) => {
    setBusy(true);
    setError('');
    setSaved('');
    try {
      await f();
      setSaved(note);
      return true;
    } catch (e) {
      setError(
        e instanceof ApiError && e.code === 'permission_above_role'
          ? 'You cannot give or take back a permission above your own role.'
          : friendlyError(e),
      );
      return false;
    } finally {
      setBusy(false);
    }
  };
  const myRole = () => room()?.my_role ?? 'member';
  /** Whether a permission is above my role (its control is then off). */
  const reserved = (key: PermissionKey) => !permissionEditable(myRole(), permissionOf(room(), key));
  /** Some choices are above my role (an admin: "Owner only"). */
  const limited = () => !permissionChoiceAllowed(myRole(), 'owner');
  const noteIds = (key: PermissionKey) =>
    [reserved(key) ? `permission-${key}-note` : '', limited() ? 'permissions-note' : ''].filter(Boolean).join(' ') ||
    undefined;
  const known = () => SLOW_MODE_CHOICES.includes(slow());
  let amount!: HTMLInputElement;
  let unit!: HTMLSelectElement;
  return (
    <section class="group-settings" aria-labelledby="group-settings-title">
      <h4 id="group-settings-title">Group settings</h4>
      <label>
        Slow mode
        <select
          disabled={busy()}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (v === 'custom') return setCustom(true);
            setCustom(false);
            void run(() => c.moderation.setSlowMode(props.roomId, Number(v)), 'Slow mode saved.');
          }}
        >
          <For each={SLOW_MODE_CHOICES}>
            {(s) => (
              <option value={String(s)} selected={!custom() && slow() === s}>
                {slowModeChoiceLabel(s)}
              </option>
            )}
          </For>
          <Show when={!known()}>
            <option value={String(slow())} selected={!custom()}>
              {slowModeChoiceLabel(slow())}
            </option>
          </Show>
          <option value="custom" selected={custom()}>
            Custom…
          </option>
        </select>
      </label>
      <Show when={custom()}>
        <form
          class="row custom-duration"
          aria-label="Custom slow mode"
          onSubmit={(e) => {
            e.preventDefault();
            const v = parseDuration(amount.value, unit.value as 'seconds', 'seconds', SLOW_MODE_MAX);
            if (v === null) return setError('Enter between 1 second and 6 hours.');
            void run(async () => {
              await c.moderation.setSlowMode(props.roomId, v);
              setCustom(false);
            }, 'Slow mode saved.');
          }}
        >
          <label>
            One message every
            <input ref={amount} type="number" min="1" step="1" inputmode="numeric" required />
          </label>
          <label>
            Unit
            <select ref={unit}>
              <option value="seconds">seconds</option>
              <option value="minutes">minutes</option>
              <option value="hours">hours</option>
            </select>
          </label>
          <button type="submit" disabled={busy()}>
            Set
          </button>
        </form>
      </Show>
      <p class="hint">Admins and the owner are not slowed down.</p>
      <label>
        Who may post
        <select
          disabled={busy()}
          onChange={(e) =>
            void run(() => c.moderation.setOnlyAdminsPost(props.roomId, e.currentTarget.value === 'admins'), 'Saved.')
          }
        >
          <option value="everyone" selected={!room()?.only_admins_post}>
            Everyone
          </option>
          <option value="admins" selected={!!room()?.only_admins_post}>
            Admins only
          </option>
        </select>
      </label>
      <fieldset class="permissions">
        <legend>Permissions</legend>
        <For each={PERMISSION_KEYS}>
          {(key) => (
            <>
              <label>
                {PERMISSION_LABELS[key]}
                <select
                  data-testid={`permission-${key}`}
                  disabled={busy() || reserved(key)}
                  aria-describedby={noteIds(key)}
                  onChange={(e) => {
                    const el = e.currentTarget;
                    const v = el.value as Role;
                    void run(() => c.moderation.setPermissions(props.roomId, { [key]: v }), 'Saved.').then((ok) => {
                      // Refused: show what the room still has.
                      if (!ok) el.value = permissionOf(room(), key);
                    });
                  }}
                >
                  <For each={ROLE_CHOICES}>
                    {(r) => (
                      <option
                        value={r.value}
                        selected={permissionOf(room(), key) === r.value}
                        disabled={!permissionChoiceAllowed(myRole(), r.value)}
                      >
                        {r.label}
                      </option>
                    )}
                  </For>
                </select>
              </label>
              <Show when={reserved(key)}>
                <p class="hint permission-note" id={`permission-${key}-note`}>
                  Reserved to the owner: only the owner can change this.
                </p>
              </Show>
            </>
          )}
        </For>
        <Show when={limited()}>
          <p class="hint" id="permissions-note">
            “Owner only” is for the owner to choose.
          </p>
        </Show>
      </fieldset>
      <p class="hint" role="status" data-testid="group-settings-status">
        {saved()}
      </p>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
    </section>
  );
}
