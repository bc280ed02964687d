/** Glue between the gateway client, the API and the stores: connecting, history,
 * optimistic sends, reactions, edits, typing and read marks. Components call these
 * functions; they never talk to the socket themselves. */

import { api, qs } from "../api/http";
import type { MessagesAnswer, ReceiptsAnswer } from "../api/types";
import { GatewayClient, RequestError } from "../gateway/client";
import type { Attachment, Channel, Id, Message } from "../gateway/types";
import { cmpId } from "../lib/ids";
import { chat, putHistory } from "./chat";
import { applyEvent, applyReady } from "./events";
import { gatewayUrl } from "./config";
import { session } from "./session";

const PAGE = 50;
let client: GatewayClient | null = null;
/** Bumped by every connect and disconnect, so a connect that was overtaken (React
 * mounting twice in development) does not open a second connection. */
let generation = 0;
/** Channels reloaded after a `resync` in this tab (the browser tests read it). */
let resyncs = 0;

export async function connect(): Promise<void> {
  const mine = ++generation;
  if (client) return;
  chat.reset();
  const url = await gatewayUrl();
  if (mine !== generation || client) return;
  const gw = new GatewayClient({
    url,
    token: () => session.get().token,
    handlers: {
      ready: (r, replayed) => {
        applyReady(r, replayed);
        const active = chat.get().activeId;
        if (active) void loadReceipts(active);
      },
      event: applyEvent,
      resync: (ids) => {
        resyncs += ids.length;
        ids.forEach((id) => void reload(id));
      },
      state: (state, detail) => chat.set({ connection: state, connectionDetail: detail }),
      authFailed: () => session.get().signOut(),
    },
  });
  client = gw;
  gw.start();
  window.addEventListener("offline", onOffline);
  window.addEventListener("online", onOnline);
  (window as unknown as { __layer4?: unknown }).__layer4 = {
    drop: () => gw.drop(),
    pending: () => gw.pendingNonces(),
    offsets: () => gw.offsets.positions(),
    state: () => chat.get(),
    resyncs: () => resyncs,
  };
}

export function disconnect(): void {
  generation++;
  client?.stop();
  client = null;
  window.removeEventListener("offline", onOffline);
  window.removeEventListener("online", onOnline);
  chat.reset();
}

export function reconnect(): void {
  client?.start();
}

const onOffline = () => client?.drop();
const onOnline = () => client?.reconnectNow();

function gw(): GatewayClient {
  if (!client) throw new RequestError("UNAVAILABLE", "not connected");
  return client;
}

/** The newest page of a channel (first open). */
export async function loadLatest(channelId: Id): Promise<void> {
  const { messages } = await api<MessagesAnswer>(`/api/chat/channels/${channelId}/messages${qs({ limit: PAGE })}`);
  putHistory(channelId, messages, PAGE, false);
}

/** The page before the oldest loaded message. */
export async function loadOlder(channelId: Id): Promise<number> {
  const list = chat.get().lists[channelId];
  const before = list?.ids[0];
  if (!before || !list.hasOlder) return 0;
  const { messages } = await api<MessagesAnswer>(`/api/chat/channels/${channelId}/messages${qs({ before, limit: PAGE })}`);
  putHistory(channelId, messages, PAGE, false);
  return messages.length;
}

/** Messages around one (jump to the first unread). */
export async function loadAround(channelId: Id, around: Id): Promise<void> {
  const { messages } = await api<MessagesAnswer>(`/api/chat/channels/${channelId}/messages${qs({ around, limit: PAGE })}`);
  putHistory(channelId, messages, PAGE, false);
}

/** A channel whose gap could not be replayed: reload it with FETCH_MESSAGES. */
async function reload(channelId: Id): Promise<void> {
  if (!chat.get().lists[channelId]) return;
  const d = await gw().request("FETCH_MESSAGES", { channel_id: channelId, limit: PAGE });
  putHistory(channelId, (d.messages as Message[]) ?? [], PAGE, true);
}

export async function loadReceipts(channelId: Id): Promise<void> {
  const { receipts } = await api<ReceiptsAnswer>(`/api/chat/channels/${channelId}/receipts`);
  const map: Record<Id, Id> = {};
  for (const r of receipts) map[r.user_id] = r.message_id;
  chat.set((s) => ({ receipts: { ...s.receipts, [channelId]: map } }));
}

/** Sends optimistically: shown at once as pending, confirmed by the ACK (or by the
 * MESSAGE_RECEIVED carrying the same nonce), resent after a reconnect. */
export function sendMessage(channelId: Id, content: string, replyTo?: Id, attachments: Attachment[] = []): void {
  const nonce = crypto.randomUUID();
  const pending = { nonce, channel_id: channelId, content, reply_to: replyTo, attachments, created_at: Date.now() };
  chat.set((s) => ({ pending: { ...s.pending, [channelId]: [...(s.pending[channelId] ?? []), pending] } }));
  stopTyping(channelId);
  const data = { channel_id: channelId, content, reply_to: replyTo, attachment_ids: attachments.length ? attachments.map((a) => a.id) : undefined };
  gw()
    .sendMessage(data, nonce)
    .then((message) => applyEvent({ t: "MESSAGE_RECEIVED", d: { message } }))
    .catch((err: Error) =>
      chat.set((s) => ({
        pending: { ...s.pending, [channelId]: (s.pending[channelId] ?? []).map((p) => (p.nonce === nonce ? { ...p, error: err.message } : p)) },
      })),
    );
}

export function discardPending(channelId: Id, nonce: string): void {
  chat.set((s) => ({ pending: { ...s.pending, [channelId]: (s.pending[channelId] ?? []).filter((p) => p.nonce !== nonce) } }));
}

export async function toggleReaction(messageId: Id, emoji: string): Promise<void> {
  const mine = chat.get().mine[messageId] ?? [];
  const t = mine.includes(emoji) ? "REMOVE_REACTION" : "ADD_REACTION";
  await gw().request(t, { message_id: messageId, emoji });
}

export async function editMessage(messageId: Id, content: string): Promise<void> {
  await gw().request("EDIT_MESSAGE", { message_id: messageId, content });
}

export async function deleteMessage(messageId: Id): Promise<void> {
  await gw().request("DELETE_MESSAGE", { message_id: messageId });
}

export async function joinChannel(channelId: Id): Promise<Channel> {
  const d = await gw().request("JOIN_CHANNEL", { channel_id: channelId });
  return d.channel as Channel;
}

export async function leaveChannel(channelId: Id): Promise<void> {
  await gw().request("LEAVE_CHANNEL", { channel_id: channelId });
}

const typingSent = new Map<Id, number>();

/** START_TYPING at most every 8 s while the user types (it expires after 10 s). */
export function typing(channelId: Id): void {
  const now = Date.now();
  if (now - (typingSent.get(channelId) ?? 0) < 8_000) return;
  typingSent.set(channelId, now);
  client?.notify("START_TYPING", { channel_id: channelId });
}

export function stopTyping(channelId: Id): void {
  if (!typingSent.has(channelId)) return;
  typingSent.delete(channelId);
  client?.notify("STOP_TYPING", { channel_id: channelId });
}

/** Marks the newest loaded message as read when it is newer than the read mark. */
export function markRead(channelId: Id): void {
  const s = chat.get();
  const channel = s.channels[channelId];
  const newest = s.lists[channelId]?.ids.at(-1);
  if (!channel || !newest || s.connection !== "ready") return;
  const read = channel.last_read_message_id;
  if (read && cmpId(read, newest) >= 0 && channel.unread_count === 0) return;
  chat.set({ channels: { ...s.channels, [channelId]: { ...channel, unread_count: 0, last_read_message_id: newest } } });
  client?.request("MARK_AS_READ", { channel_id: channelId, message_id: newest }).catch(() => undefined);
}
