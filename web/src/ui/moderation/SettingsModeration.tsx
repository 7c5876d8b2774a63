// Settings' moderation part (loaded on demand): my reports and their outcomes; for the
// instance's admins (GET /users/me instance_admin), every room's reports and the whole audit log.
import { createResource, Show } from 'solid-js';
import type { Client } from '../../lib/client';
import { Audit } from './Audit';
import { MyReports, Reports } from './Reports';

export default function SettingsModeration(props: { client: Client }) {
  const [admin] = createResource(() => props.client.moderation.instanceAdmin().catch(() => false));
  return (
    <>
      <h3>My reports</h3>
      <MyReports client={props.client} />
      <Show when={admin()}>
        <h3>Instance reports</h3>
        <p class="hint">Every room’s reports, direct messages included (you are one of the server’s admins).</p>
        <Reports client={props.client} roomId={null} />
        <h3>Instance audit log</h3>
        <Audit client={props.client} roomId={null} />
      </Show>
    </>
  );
}
