/** The objects and frames of the gateway contract (PROTOCOL.md sections 2-3). IDs are
 * decimal strings in the client, whatever the wire encoding. */

export type Id = string;
export type Status = "online" | "idle" | "away" | "offline";

export interface User {
  id: Id;
  username: string;
  display_name: string;
  status?: Status | null;
}

export interface Channel {
  id: Id;
  kind: "dm" | "group" | "thread";
  name: string;
  visibility: "public" | "private";
  parent_id?: Id | null;
  root_message_id?: Id | null;
  member_count: number;
  last_message_id?: Id | null;
  offset: number;
  last_read_message_id?: Id | null;
  unread_count: number;
  muted: boolean;
  muted_until?: number | null;
}

export interface Attachment {
  id: Id;
  filename: string;
  content_type: string;
  size: number;
  url: string;
  width?: number | null;
  height?: number | null;
  thumbnail_url?: string | null;
}

export interface Reaction {
  emoji: string;
  count: number;
}

export interface Message {
  id: Id;
  channel_id: Id;
  author: User;
  content: string;
  created_at: number;
  edited_at?: number | null;
  reply_to?: Id | null;
  attachments: Attachment[];
  reactions: Reaction[];
  nonce?: string | null;
}

/** One frame: `t` the event, `d` its data, `id` the request id, `s` the offset. */
export interface Frame {
  t: string;
  d: Record<string, unknown>;
  id?: number;
  s?: number;
}

export interface Ready {
  session_id: string;
  user: User;
  channels: Channel[];
  blocked_user_ids: Id[];
  heartbeat_interval_ms: number;
  resync: Id[];
}

export interface GatewayError {
  code: string;
  message: string;
  retry_after_ms?: number | null;
}
