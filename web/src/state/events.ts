/** Applies gateway events to the chat store. Channel events arrive here already checked
 * against their offsets (no repeats, no gaps), so each is applied exactly once. */

import type { Channel, Frame, Id, Message, Ready, Status, User } from "../gateway/types";
import { insertSorted } from "../lib/ids";
import { chat, rememberUsers, type ChatState } from "./chat";

type Data = Record<string, unknown>;

/** READY: the channel list is the server's, except the read state of channels that are
 * replayed, which the replayed events bring up to date (taking READY's counts too would
 * count those messages twice). */
export function applyReady(ready: Ready, replayed: string[] = []): void {
  rememberUsers([{ ...ready.user, status: ready.user.status ?? "online" }]);
  const keep = new Set(replayed);
  chat.set((s) => {
    const channels: Record<Id, Channel> = {};
    for (const c of ready.channels) {
      const old = s.channels[c.id];
      channels[c.id] = old && keep.has(c.id) ? { ...c, unread_count: old.unread_count, last_read_message_id: old.last_read_message_id } : c;
    }
    const activeId = s.activeId && channels[s.activeId] ? s.activeId : null;
    const threadId = s.threadId && channels[s.threadId] ? s.threadId : null;
    return { me: ready.user, channels, blocked: ready.blocked_user_ids, activeId, threadId };
  });
}

export function applyEvent(frame: Frame): void {
  const d = frame.d;
  switch (frame.t) {
    case "MESSAGE_RECEIVED":
      return received(d.message as Message);
    case "MESSAGE_EDITED":
      return edited(d.message as Message);
    case "MESSAGE_DELETED":
      return deleted(d.channel_id as Id, d.message_id as Id);
    case "REACTION_ADDED":
    case "REACTION_REMOVED":
      return reaction(d, frame.t === "REACTION_ADDED" ? 1 : -1);
    case "USER_JOINED":
      rememberUsers([d.user as User]);
      return memberCount(d.channel_id as Id, 1);
    case "USER_LEFT":
      return left(d.channel_id as Id, d.user_id as Id);
    case "TYPING_STARTED":
      return typing(d.channel_id as Id, d.user_id as Id, Date.now() + 10_000);
    case "TYPING_STOPPED":
      return typing(d.channel_id as Id, d.user_id as Id, 0);
    case "READ_RECEIPT_UPDATED":
      return receipt(d.channel_id as Id, d.user_id as Id, d.message_id as Id);
    case "USER_STATUS_CHANGED":
      return chat.set((s) => ({ presence: { ...s.presence, [d.user_id as Id]: d.status as Status } }));
    case "CHANNEL_CREATED":
    case "CHANNEL_UPDATED":
      return upsertChannel(d.channel as Channel);
    case "CHANNEL_DELETED":
      return removeChannel(d.channel_id as Id);
    default:
      return;
  }
}

function patchMessage(s: ChatState, m: Message): Partial<ChatState> {
  return { messages: { ...s.messages, [m.id]: m } };
}

function received(m: Message): void {
  rememberUsers([m.author]);
  chat.set((s) => {
    const channel = s.channels[m.channel_id];
    const fromMe = m.author.id === s.me?.id;
    const list = s.lists[m.channel_id];
    const pending = (s.pending[m.channel_id] ?? []).filter((p) => !m.nonce || p.nonce !== m.nonce);
    const typingHere = { ...(s.typing[m.channel_id] ?? {}) };
    delete typingHere[m.author.id];
    const next: Partial<ChatState> = {
      ...patchMessage(s, m),
      pending: { ...s.pending, [m.channel_id]: pending },
      typing: { ...s.typing, [m.channel_id]: typingHere },
    };
    // A channel not loaded yet keeps its live messages until its history is merged in.
    const ids = list ? insertSorted(list.ids, m.id) : [m.id];
    next.lists = { ...s.lists, [m.channel_id]: list ? { ...list, ids } : { ids, hasOlder: true, loaded: false } };
    if (channel) {
      const visible = s.activeId === m.channel_id || s.threadId === m.channel_id;
      const unread = fromMe || visible ? channel.unread_count : channel.unread_count + 1;
      next.channels = {
        ...s.channels,
        [m.channel_id]: {
          ...channel,
          last_message_id: m.id,
          unread_count: fromMe ? 0 : unread,
          last_read_message_id: fromMe ? m.id : channel.last_read_message_id,
        },
      };
    }
    return next;
  });
}

function edited(m: Message): void {
  chat.set((s) => (s.messages[m.id] ? patchMessage(s, m) : {}));
}

function deleted(channelId: Id, messageId: Id): void {
  chat.set((s) => {
    const list = s.lists[channelId];
    if (!list) return {};
    return { lists: { ...s.lists, [channelId]: { ...list, ids: list.ids.filter((id) => id !== messageId) } } };
  });
}

function reaction(d: Data, delta: 1 | -1): void {
  const messageId = d.message_id as Id;
  const emoji = d.emoji as string;
  chat.set((s) => {
    const next: Partial<ChatState> = {};
    if (d.user_id === s.me?.id) {
      const mine = new Set(s.mine[messageId] ?? []);
      if (delta > 0) mine.add(emoji);
      else mine.delete(emoji);
      next.mine = { ...s.mine, [messageId]: [...mine] };
    }
    const m = s.messages[messageId];
    if (m) {
      const found = m.reactions.some((r) => r.emoji === emoji);
      const reactions = found
        ? m.reactions.map((r) => (r.emoji === emoji ? { ...r, count: r.count + delta } : r))
        : delta > 0
          ? [...m.reactions, { emoji, count: 1 }]
          : m.reactions;
      next.messages = { ...s.messages, [messageId]: { ...m, reactions: reactions.filter((r) => r.count > 0) } };
    }
    return next;
  });
}

function memberCount(channelId: Id, delta: number): void {
  chat.set((s) => {
    const c = s.channels[channelId];
    return c ? { channels: { ...s.channels, [channelId]: { ...c, member_count: Math.max(0, c.member_count + delta) } } } : {};
  });
}

function left(channelId: Id, userId: Id): void {
  if (userId === chat.get().me?.id) return removeChannel(channelId);
  memberCount(channelId, -1);
}

function typing(channelId: Id, userId: Id, until: number): void {
  chat.set((s) => {
    const here = { ...(s.typing[channelId] ?? {}) };
    if (until > 0) here[userId] = until;
    else delete here[userId];
    return { typing: { ...s.typing, [channelId]: here } };
  });
}

function receipt(channelId: Id, userId: Id, messageId: Id): void {
  chat.set((s) => {
    const next: Partial<ChatState> = {
      receipts: { ...s.receipts, [channelId]: { ...(s.receipts[channelId] ?? {}), [userId]: messageId } },
    };
    const c = s.channels[channelId];
    if (c && userId === s.me?.id) {
      next.channels = { ...s.channels, [channelId]: { ...c, unread_count: 0, last_read_message_id: messageId } };
    }
    return next;
  });
}

export function upsertChannel(c: Channel): void {
  chat.set((s) => {
    const old = s.channels[c.id];
    // CHANNEL_UPDATED carries the channel; the caller's own counters stay ours.
    const merged = old
      ? { ...c, unread_count: old.unread_count, muted: old.muted, muted_until: old.muted_until, last_read_message_id: old.last_read_message_id }
      : c;
    return { channels: { ...s.channels, [c.id]: merged } };
  });
}

export function removeChannel(channelId: Id): void {
  chat.set((s) => {
    const channels = { ...s.channels };
    delete channels[channelId];
    return {
      channels,
      activeId: s.activeId === channelId ? null : s.activeId,
      threadId: s.threadId === channelId ? null : s.threadId,
    };
  });
}
