/** Answers of the HTTP API (API.md). */

import type { Attachment, Channel, Id, Message, User } from "../gateway/types";

export interface AuthAnswer {
  user: User;
  token: string;
}
export interface Member {
  user: User;
  role: string;
}
export interface Edit {
  content: string;
  edited_at: number;
}
export type ChannelAnswer = { channel: Channel };
export type ChannelsAnswer = { channels: Channel[] };
export type UsersAnswer = { users: User[] };
export type MembersAnswer = { members: Member[] };
export type MessagesAnswer = { messages: Message[] };
export type SearchAnswer = { messages: Message[]; total: number };
export type EditsAnswer = { edits: Edit[] };
export type ReceiptsAnswer = { receipts: { user_id: Id; message_id: Id }[] };
export type AttachmentAnswer = { attachment: Attachment };
