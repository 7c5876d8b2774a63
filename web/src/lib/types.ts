// Wire types (mirrors crates/server/src/api/wire.rs and crates/core). Keep in sync with
// GET /api/openapi.json.

export type Role = 'member' | 'admin' | 'owner';
export type RoomKind = 'dm' | 'group';

export interface Me {
  id: string;
  username: string;
  display_name: string;
  email?: string;
}

export interface PublicUser {
  id: string;
  username: string;
  display_name: string;
}

export interface Reaction {
  emoji: string;
  count: number;
  users: string[];
}

export interface Message {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
  body: string;
  reply_to: string | null;
  mentions: string[];
  mentions_room: boolean;
  pinned: boolean;
  reactions: Reaction[];
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  /** Uploaded files, in the order sent (absent from servers without media). */
  attachments?: Media[];
}

/** An uploaded file (POST /api/v1/media), as carried in `Message.attachments`. */
export interface Media {
  id: string;
  kind: 'image' | 'audio' | 'video' | 'file';
  mime: string;
  name: string;
  size: number;
  width: number | null;
  height: number | null;
  blurhash: string | null;
  duration_ms: number | null;
}

export interface Room {
  id: string;
  kind: RoomKind;
  name: string | null;
  topic: string | null;
  created_by: string;
  created_at: string;
  last_seq: number;
  last_activity_at: string;
  only_admins_post: boolean;
  member_count: number;
  my_role?: Role;
  read_seq?: number;
  unread?: number;
  mentions?: number;
  last_message?: Message | null;
  dm_peer?: PublicUser | null;
}

export type EventType =
  | 'message.created' | 'message.edited' | 'message.deleted'
  | 'reaction.added' | 'reaction.removed'
  | 'message.pinned' | 'message.unpinned'
  | 'member.joined' | 'member.left' | 'member.kicked' | 'member.banned' | 'member.role_changed'
  | 'room.updated' | 'room.deleted';

export interface RoomEvent {
  room_id: string;
  seq: number;
  type: EventType;
  actor_id: string;
  created_at: string;
  message_id?: string;
  user_id?: string;
  emoji?: string;
  role?: Role;
  message?: Message;
  changes?: Record<string, unknown>;
}

export interface EventsPage {
  events: RoomEvent[];
  has_more: boolean;
  last_seq: number;
}

export interface MessagePage {
  messages: Message[];
  has_more: boolean;
}

export interface AuthResponse {
  access_token: string;
  expires_in: number;
  expires_at: string;
  session_id: string;
  user: Me;
}

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

export interface MemberView {
  user: PublicUser;
  role: Role;
  joined_at: string;
  read_seq: number;
}

export interface InviteView {
  code: string;
  room_id: string;
  room_name: string | null;
  member_count: number;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
}

export interface SearchResult {
  room_id: string;
  message: Message;
  snippet: { text: string; highlight: boolean }[];
  rank: number;
}

export interface ReadyRoom {
  id: string;
  kind: RoomKind;
  name: string | null;
  last_seq: number;
  read_seq: number;
  unread: number;
  mentions: number;
  my_role: Role;
}

export interface Ready {
  user: PublicUser;
  session_id: string;
  heartbeat_interval_ms: number;
  rooms: ReadyRoom[];
  presence: { user_id: string; status: 'online' | 'idle' | 'offline' }[];
}
