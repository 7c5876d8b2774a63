// The app's URLs (plain TS, no DOM): a room, a message in a room, the settings, an invite. A
// reload keeps the place and the browser's Back moves inside the app.

export type Route =
  | { kind: 'home' }
  | { kind: 'room'; roomId: string; messageId?: string }
  | { kind: 'settings' }
  | { kind: 'invite'; code: string };

const ID = '[\\w-]+';
const ROOM = new RegExp(`^/rooms/(${ID})/?$`);
const MESSAGE = new RegExp(`^/rooms/(${ID})/messages/(${ID})/?$`);
const INVITE = new RegExp(`^/invite/(${ID})/?$`);

export function parseRoute(path: string): Route {
  let m = MESSAGE.exec(path);
  if (m) return { kind: 'room', roomId: m[1], messageId: m[2] };
  m = ROOM.exec(path);
  if (m) return { kind: 'room', roomId: m[1] };
  m = INVITE.exec(path);
  if (m) return { kind: 'invite', code: m[1] };
  if (path === '/settings' || path === '/settings/') return { kind: 'settings' };
  return { kind: 'home' };
}

export function routePath(r: Route): string {
  switch (r.kind) {
    case 'home':
      return '/';
    case 'settings':
      return '/settings';
    case 'invite':
      return `/invite/${encodeURIComponent(r.code)}`;
    case 'room':
      return r.messageId
        ? `/rooms/${encodeURIComponent(r.roomId)}/messages/${encodeURIComponent(r.messageId)}`
        : `/rooms/${encodeURIComponent(r.roomId)}`;
  }
}
