import { beforeEach, describe, expect, it } from "vitest";
import type { Channel, Message } from "../gateway/types";
import { chat, putHistory } from "./chat";
import { applyEvent, applyReady } from "./events";

const me = { id: "1", username: "ann", display_name: "Ann" };
const ben = { id: "2", username: "ben", display_name: "Ben" };
const channel: Channel = { id: "10", kind: "group", name: "g", visibility: "private", member_count: 2, offset: 0, unread_count: 0, muted: false };
const msg = (id: string, author = ben, nonce?: string): Message => ({
  id, channel_id: "10", author, content: `m${id}`, created_at: 1, attachments: [], reactions: [], nonce,
});

beforeEach(() => {
  chat.reset();
  applyReady({ session_id: "s", user: me, channels: [channel], blocked_user_ids: [], heartbeat_interval_ms: 1, resync: [] });
});

describe("chat store", () => {
  it("keeps history sorted and merges live messages without duplicates", () => {
    putHistory("10", [msg("300"), msg("200")], 50, false);
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("1000") } });
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("1000") } });
    putHistory("10", [msg("100")], 50, false);
    expect(chat.get().lists["10"]?.ids).toEqual(["100", "200", "300", "1000"]);
    expect(chat.get().lists["10"]?.hasOlder).toBe(false);
  });

  it("counts unread messages of others in channels not on screen", () => {
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("5") } });
    expect(chat.get().channels["10"]?.unread_count).toBe(1);
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("6", me) } });
    expect(chat.get().channels["10"]?.unread_count).toBe(0);
    chat.set({ activeId: "10" });
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("7") } });
    expect(chat.get().channels["10"]?.unread_count).toBe(0);
  });

  it("a received message with a pending nonce replaces the pending one", () => {
    chat.set({ pending: { "10": [{ nonce: "n", channel_id: "10", content: "x", attachments: [], created_at: 1 }] } });
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("9", me, "n") } });
    expect(chat.get().pending["10"]).toEqual([]);
  });

  it("applies reactions, edits and deletes", () => {
    putHistory("10", [msg("50")], 50, true);
    applyEvent({ t: "REACTION_ADDED", d: { channel_id: "10", message_id: "50", user_id: "1", emoji: "🎉" } });
    applyEvent({ t: "REACTION_ADDED", d: { channel_id: "10", message_id: "50", user_id: "2", emoji: "🎉" } });
    expect(chat.get().messages["50"]?.reactions).toEqual([{ emoji: "🎉", count: 2 }]);
    expect(chat.get().mine["50"]).toEqual(["🎉"]);
    applyEvent({ t: "REACTION_REMOVED", d: { channel_id: "10", message_id: "50", user_id: "1", emoji: "🎉" } });
    applyEvent({ t: "REACTION_REMOVED", d: { channel_id: "10", message_id: "50", user_id: "2", emoji: "🎉" } });
    expect(chat.get().messages["50"]?.reactions).toEqual([]);
    applyEvent({ t: "MESSAGE_EDITED", d: { message: { ...msg("50"), content: "new", edited_at: 5 } } });
    expect(chat.get().messages["50"]?.content).toBe("new");
    applyEvent({ t: "MESSAGE_DELETED", d: { channel_id: "10", message_id: "50" } });
    expect(chat.get().lists["10"]?.ids).toEqual([]);
  });

  it("tracks typing until the typist's message arrives", () => {
    applyEvent({ t: "TYPING_STARTED", d: { channel_id: "10", user_id: "2" } });
    expect(Object.keys(chat.get().typing["10"] ?? {})).toEqual(["2"]);
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("8") } });
    expect(chat.get().typing["10"]).toEqual({});
  });

  it("a replayed channel keeps its own unread count, so replayed messages count once", () => {
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("5") } });
    const after = { ...channel, unread_count: 3, offset: 9 };
    applyReady({ session_id: "s2", user: me, channels: [after], blocked_user_ids: [], heartbeat_interval_ms: 1, resync: [] }, ["10"]);
    expect(chat.get().channels["10"]?.unread_count).toBe(1);
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("6") } });
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("7") } });
    expect(chat.get().channels["10"]?.unread_count).toBe(3);
    applyReady({ session_id: "s3", user: me, channels: [{ ...after, unread_count: 7 }], blocked_user_ids: [], heartbeat_interval_ms: 1, resync: [] }, []);
    expect(chat.get().channels["10"]?.unread_count).toBe(7);
  });

  it("my own read receipt clears the unread count; leaving removes the channel", () => {
    applyEvent({ t: "MESSAGE_RECEIVED", d: { message: msg("5") } });
    applyEvent({ t: "READ_RECEIPT_UPDATED", d: { channel_id: "10", user_id: "1", message_id: "5" } });
    expect(chat.get().channels["10"]?.unread_count).toBe(0);
    applyEvent({ t: "USER_LEFT", d: { channel_id: "10", user_id: "1" } });
    expect(chat.get().channels["10"]).toBeUndefined();
  });
});
