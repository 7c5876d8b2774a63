// Browser notifications: the adapter between the client's incoming messages, the user's
// preference (this device) and the Notification API. The decision itself is lib/notify.ts.
import type { Client } from '../../lib/client';
import { shouldNotify } from '../../lib/notify';
import { plain } from '../../lib/markdown';
import { mediaFor } from '../../lib/media';
import { loadPrefs } from './prefs';
import type { Navigation } from '../navigation';

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Ask for permission (only ever from a user action: opting in). Resolves the resulting state. */
export async function requestNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/** Show a notification for live messages that match the preference while the tab is hidden. */
export function startNotifications(client: Client, nav: Navigation): void {
  client.onIncoming = async (roomId, m) => {
    const room = client.rooms.get(roomId);
    const ok = shouldNotify({
      pref: loadPrefs().notifications,
      permission: notificationPermission(),
      hidden: document.visibilityState === 'hidden',
      me: client.me?.id ?? null,
      roomKind: room?.kind,
      message: m,
      now: Date.now(),
    });
    if (!ok) return;
    // A sender the client has not met yet (a room never opened here) is looked up first.
    await client.members.ensureUser(m.sender_id).catch(() => {});
    const sender = client.members.displayName(m.sender_id);
    const title = room && room.kind === 'group' ? `${sender} in ${client.rooms.title(room)}` : sender;
    // One notification per room (tag): a burst replaces instead of stacking.
    // The sender's picture when they have one (a signed URL, good for the notification's life).
    const avatar = client.members.users.get(m.sender_id)?.avatar;
    const icon = avatar
      ? await mediaFor(client.api)
          .avatarUrl('users', m.sender_id, avatar)
          .then((s) => s.url)
          .catch(() => undefined)
      : undefined;
    const opts = {
      body: plain(m.body).slice(0, 160),
      tag: roomId,
      icon: icon ?? '/icons/icon-192.png',
      data: { roomId },
    };
    try {
      const n = new Notification(title, opts);
      n.onclick = () => {
        window.focus();
        void nav.openRoom(roomId);
        n.close();
      };
    } catch {
      // Mobile browsers only allow notifications through the service worker; its
      // notificationclick handler posts { type: 'open-room' } back (see listenForOpenRoom).
      void navigator.serviceWorker
        ?.getRegistration()
        .then((reg) => reg?.showNotification(title, opts))
        .catch(() => {});
    }
  };
  listenForOpenRoom(client, nav);
}

/** A click on a notification shown by the service worker opens that room here. */
function listenForOpenRoom(client: Client, nav: Navigation): void {
  navigator.serviceWorker?.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: unknown; roomId?: unknown } | null;
    if (d?.type === 'open-room' && typeof d.roomId === 'string' && client.rooms.get(d.roomId))
      void nav.openRoom(d.roomId);
  });
}
