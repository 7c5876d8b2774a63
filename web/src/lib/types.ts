// Wire types. REST shapes are derived from the generated OpenAPI types (`npm run gen:api` writes
// lib/api/schema.d.ts from docs/openapi.json, which a Rust test keeps equal to the server), so a
// change on the server shows up here as a type error. The names are the ones the client has
// always used, so call sites do not change.
//
// Gateway frames (`ready`, typing, receipts, presence, `ai.delta`) are not part of the OpenAPI
// document: those at the bottom are hand-written from docs/protocol.md.
import type { components } from './api/schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export type RoomKind = Schemas['RoomKind'];
export type EventType = Schemas['EventKind'];

export type Me = Schemas['Me'];
export type PublicUser = Schemas['PublicUser'];
/** Another user's profile (GET /users/{id}): with `last_seen_at` for people who share a room. */
export type UserProfile = Schemas['UserProfile'];
export type Reaction = Schemas['Reaction'];
export type Message = Schemas['Message'];
/** An uploaded file (POST /api/v1/media), as carried in `Message.attachments`. */
export type Media = Schemas['Attachment'];
export type MediaKind = Schemas['MediaKind'];
/** A room as the caller sees it (GET /rooms, GET /rooms/{id}). */
export type Room = Schemas['RoomView'];
export type RoomEvent = Schemas['RoomEvent'];
export type EventsPage = Schemas['EventsPage'];
export type MessagePage = Schemas['MessagePage'];
export type AuthResponse = Schemas['AuthResponse'];
export type SessionView = Schemas['SessionView'];
export type MemberView = Schemas['MemberView'];
export type InviteView = Schemas['InviteView'];
export type SearchResult = Schemas['SearchResult'];
export type SignedUrlView = Schemas['SignedUrl'];
export type ClientConfig = Schemas['ClientConfig'];
export type AiPrefsView = Schemas['AiPrefsView'];
export type SummaryView = Schemas['SummaryView'];
export type SuggestionsView = Schemas['SuggestionsView'];
export type TranslationView = Schemas['TranslationView'];
export type RoomAi = Schemas['RoomAi'];
export type ErrorBody = Schemas['ErrorBody'];
export type PatchMe = Schemas['PatchMe'];
export type PatchRoom = Schemas['PatchRoom'];
export type RoomChanges = Schemas['RoomChanges'];
export type AuditEntry = Schemas['AuditEntry'];
export type AuditLog = Schemas['AuditLog'];
export type Report = Schemas['Report'];
export type ReportList = Schemas['ReportList'];
export type CreateReport = Schemas['CreateReport'];
export type MuteView = Schemas['MuteView'];
export type BanList = Schemas['BanList'];

/** List wrappers of the REST answers (GET /rooms, /members, /users, /auth/sessions, /pins, /search). */
export type RoomList = Schemas['RoomList'];
export type MemberList = Schemas['MemberList'];
export type UserList = Schemas['UserList'];
export type SessionList = Schemas['SessionList'];
export type PinList = Schemas['PinList'];
export type SearchResults = Schemas['SearchResults'];

// ---------- gateway frames (not in OpenAPI; docs/protocol.md) ----------

export type PresenceStatus = 'online' | 'idle' | 'offline';

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
  presence: { user_id: string; status: PresenceStatus }[];
}

export interface TypingFrame {
  room_id: string;
  user_id: string;
  active: boolean;
}

export interface ReceiptFrame {
  room_id: string;
  user_id: string;
  seq: number;
}

export interface PresenceFrame {
  user_id: string;
  status: string;
}

/** Who may add me to a group without asking (GET/PATCH /users/me `group_adds`). */
export type GroupAdds = Schemas['GroupAdds'];
/** A pending invitation to a group (GET /invitations): an add my `group_adds` turned into a question. */
export type Invitation = Schemas['InvitationView'];
export type InvitationList = Schemas['InvitationList'];
/** POST /rooms/{id}/members answered 202: `invited`. */
export type AddOutcome = Schemas['AddOutcome'];

/** The `invitation` frame: someone's add became an invitation to me (docs/protocol.md). */
export interface InvitationFrame {
  room_id: string;
  invited_by: string;
}
