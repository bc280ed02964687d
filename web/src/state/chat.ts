/** The chat state of the tab (Zustand): channels, the loaded messages of each channel,
 * optimistic sends, typing, receipts, presence and the connection state. Gateway events
 * are applied by [`applyEvent`](./events.ts); this file holds the shapes and the plain
 * setters. */

import { create } from "zustand";
import type { ConnectionState } from "../gateway/client";
import type { Attachment, Channel, Id, Message, Status, User } from "../gateway/types";
import { mergeIds } from "../lib/ids";

export interface ChannelList {
  /** Loaded message ids, oldest first. */
  ids: string[];
  /** Older history exists on the server. */
  hasOlder: boolean;
  loaded: boolean;
}

export interface PendingMessage {
  nonce: string;
  channel_id: Id;
  content: string;
  reply_to?: Id;
  attachments: Attachment[];
  created_at: number;
  error?: string;
}

export interface ChatState {
  me: User | null;
  connection: ConnectionState;
  connectionDetail?: string;
  channels: Record<Id, Channel>;
  messages: Record<Id, Message>;
  lists: Record<Id, ChannelList>;
  pending: Record<Id, PendingMessage[]>;
  /** channel -> user -> expiry (ms). */
  typing: Record<Id, Record<Id, number>>;
  /** channel -> user -> last read message. */
  receipts: Record<Id, Record<Id, Id>>;
  presence: Record<Id, Status>;
  users: Record<Id, User>;
  blocked: Id[];
  /** Messages this user reacted to, per emoji (known from events of this session). */
  mine: Record<Id, string[]>;
  activeId: Id | null;
  threadId: Id | null;
}

export const initialChat: ChatState = {
  me: null,
  connection: "connecting",
  channels: {},
  messages: {},
  lists: {},
  pending: {},
  typing: {},
  receipts: {},
  presence: {},
  users: {},
  blocked: [],
  mine: {},
  activeId: null,
  threadId: null,
};

export const useChat = create<ChatState>(() => initialChat);

export const chat = {
  get: useChat.getState,
  set: useChat.setState,
  reset(): void {
    useChat.setState(initialChat, true);
  },
};

/** Remembers users seen anywhere (authors, members, search) and their presence. */
export function rememberUsers(users: User[]): void {
  if (users.length === 0) return;
  chat.set((s) => {
    const next = { ...s.users };
    const presence = { ...s.presence };
    for (const u of users) {
      next[u.id] = { ...next[u.id], ...u };
      if (u.status) presence[u.id] = u.status;
    }
    return { users: next, presence };
  });
}

/** Puts a page of history (newest first, as the server sends it) into a channel.
 * `replace` starts the list over (first load, resync); otherwise it is merged. */
export function putHistory(channelId: Id, page: Message[], limit: number, replace: boolean): void {
  rememberUsers(page.map((m) => m.author));
  chat.set((s) => {
    const messages = { ...s.messages };
    for (const m of page) messages[m.id] = m;
    const old = s.lists[channelId];
    const fresh = page.map((m) => m.id);
    const ids = replace || !old ? mergeIds([], fresh) : mergeIds(old.ids, fresh);
    const hasOlder = page.length >= limit;
    return {
      messages,
      lists: { ...s.lists, [channelId]: { ids, hasOlder, loaded: true } },
    };
  });
}
