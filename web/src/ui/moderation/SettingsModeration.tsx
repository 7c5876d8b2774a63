// Settings' moderation part (loaded on demand): my reports and their outcomes; for the
// instance's admins (instance_admin in the login/refresh answer or GET /users/me), every room's
// reports, the suspended accounts, the sign-up blocks and the whole audit log.
import { createResource, createSignal, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { Audit } from './Audit';
import { SignupBlocks, SuspendedAccounts } from './InstanceBans';
import { MyReports, Reports } from './Reports';

export default function SettingsModeration(props: { client: Client }) {
  const c = props.client;
  // Asked again in case the session's answer predates the field (a cached sign-in).
  const [asked] = createResource(() => c.moderation.instanceAdmin().catch(() => false));
  const admin = () => c.moderation.isInstanceAdmin() || asked() === true;
  // The audit log is read again after a suspension or sign-up block changes here.
  const [auditRun, setAuditRun] = createSignal(0);
  const changed = () => setAuditRun(auditRun() + 1);
  return (
    <>
      <h3>My reports</h3>
      <MyReports client={c} />
      <Show when={admin()}>
        <h3>Instance reports</h3>
        <p class="hint">Every room’s reports, direct messages included (you are one of the server’s admins).</p>
        <Reports client={c} roomId={null} />
        <h3>Suspended accounts</h3>
        <p class="hint">
          A suspended account’s sessions have ended and it cannot sign in. Suspend someone from their profile card.
        </p>
        <SuspendedAccounts client={c} onChange={changed} />
        <h3>Sign-up blocks</h3>
        <p class="hint">
          New accounts cannot be created from these address ranges; existing accounts are not affected.
        </p>
        <SignupBlocks client={c} onChange={changed} />
        <h3>Instance audit log</h3>
        <Show when={auditRun() + 1} keyed>
          {(_run: number) => <Audit client={c} roomId={null} />}
        </Show>
      </Show>
    </>
  );
}
