import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayClient, RequestError, type ConnectionState } from "./client";
import { FakeSocket } from "./fakeSocket";
import type { Frame, Ready } from "./types";

const C = 1n << 58n; // a channel id beyond 2^53
const CID = C.toString();

function setup() {
  const sockets: FakeSocket[] = [];
  const events: Frame[] = [];
  const states: ConnectionState[] = [];
  const resyncs: string[][] = [];
  const readies: Ready[] = [];
  const replays: string[][] = [];
  let authFailed = 0;
  const client = new GatewayClient({
    url: "ws://x/gateway?v=1&encoding=msgpack",
    token: () => "tok",
    random: () => 0,
    socket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    handlers: {
      ready: (r, replayed) => {
        readies.push(r);
        replays.push(replayed);
      },
      event: (f) => events.push(f),
      resync: (ids) => resyncs.push(ids),
      state: (s) => states.push(s),
      authFailed: () => authFailed++,
    },
  });
  const last = () => sockets[sockets.length - 1] as FakeSocket;
  const ready = (offset: number, resync: bigint[] = []) => {
    last().open();
    last().serve({
      t: "READY",
      d: {
        session_id: "s",
        user: { id: 1n, username: "ann", display_name: "Ann" },
        channels: [{ id: C, kind: "group", name: "g", visibility: "private", member_count: 2, offset: BigInt(offset), unread_count: 0, muted: false }],
        blocked_user_ids: [],
        heartbeat_interval_ms: 1000,
        resync,
      },
    });
  };
  const msg = (s: number, id: bigint, nonce?: string) =>
    last().serve({
      t: "MESSAGE_RECEIVED",
      s: BigInt(s),
      d: { message: { id, channel_id: C, author: { id: 2n, username: "ben", display_name: "Ben" }, content: `m${s}`, created_at: 1n, attachments: [], reactions: [], nonce } },
    });
  return { client, sockets, events, states, resyncs, readies, replays, last, ready, msg, authFailed: () => authFailed };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("gateway client", () => {
  it("identifies, becomes ready, applies events in order and drops repeats", () => {
    const t = setup();
    t.client.start();
    t.last().open();
    expect(t.last().sentOf("IDENTIFY")).toEqual([{ t: "IDENTIFY", d: { token: "tok" } }]);
    t.ready(10);
    expect(t.client.connectionState).toBe("ready");
    t.msg(11, 100n);
    t.msg(11, 100n);
    t.msg(12, 101n);
    expect(t.events.map((e) => e.s)).toEqual([11, 12]);
    expect(t.client.offsets.get(CID)).toBe(12);
  });

  it("reconnects after a drop with positions; replayed events fill the gap exactly once", () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    t.msg(11, 100n);
    t.last().drop(1006);
    expect(t.states.at(-1)).toBe("reconnecting");
    vi.advanceTimersByTime(250);
    expect(t.sockets).toHaveLength(2);
    t.last().open();
    expect(t.last().sentOf("IDENTIFY")[0]?.d).toEqual({ token: "tok", positions: { [CID]: 11 } });
    t.ready(13); // READY says the channel is at 13; the replay of 12 and 13 follows
    expect(t.replays).toEqual([[], [CID]]);
    t.msg(11, 100n);
    t.msg(12, 101n);
    t.msg(13, 102n);
    t.msg(14, 103n);
    expect(t.events.map((e) => e.s)).toEqual([11, 12, 13, 14]);
  });

  it("a gap in offsets reconnects with the last applied position", () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    t.msg(11, 100n);
    t.msg(13, 102n);
    expect(t.events.map((e) => e.s)).toEqual([11]);
    expect(t.states.at(-1)).toBe("reconnecting");
    vi.advanceTimersByTime(250);
    t.last().open();
    expect(t.last().sentOf("IDENTIFY")[0]?.d).toEqual({ token: "tok", positions: { [CID]: 11 } });
  });

  it("resends an unacknowledged message with the same nonce after a reconnect", async () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    const sent = t.client.sendMessage({ channel_id: CID, content: "hi" }, "n-1");
    const first = t.last().sentOf("SEND_MESSAGE");
    expect(first).toHaveLength(1);
    expect((first[0]?.d as Record<string, unknown>).nonce).toBe("n-1");
    t.last().drop(1001);
    expect(t.client.pendingNonces()).toEqual(["n-1"]);
    vi.advanceTimersByTime(250);
    t.ready(11);
    const again = t.last().sentOf("SEND_MESSAGE");
    expect(again).toHaveLength(1);
    expect(again[0]?.d).toEqual({ channel_id: CID, content: "hi", nonce: "n-1" });
    t.last().serve({ t: "ACK", id: again[0]?.id, d: { message: { id: 100n, channel_id: C, content: "hi", nonce: "n-1" } } });
    await expect(sent).resolves.toMatchObject({ id: "100", nonce: "n-1" });
    expect(t.client.pendingNonces()).toEqual([]);
  });

  it("queues a send made while reconnecting and sends it after READY", () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    t.last().drop(1006);
    void t.client.sendMessage({ channel_id: CID, content: "later" }, "n-2");
    vi.advanceTimersByTime(250);
    expect(t.last().sentOf("SEND_MESSAGE")).toHaveLength(0);
    t.ready(10);
    expect(t.last().sentOf("SEND_MESSAGE")).toHaveLength(1);
  });

  it("reports resync channels and restarts their offsets from READY", () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    t.msg(11, 100n);
    t.last().drop(1006);
    vi.advanceTimersByTime(250);
    t.ready(900, [C]);
    expect(t.resyncs).toEqual([[CID]]);
    expect(t.replays.at(-1)).toEqual([]);
    expect(t.client.offsets.get(CID)).toBe(900);
    t.msg(901, 500n);
    expect(t.events.at(-1)?.s).toBe(901);
  });

  it("answers requests by id and rejects errors with their code", async () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    const ok = t.client.request("ADD_REACTION", { message_id: "1", emoji: "👍" });
    const bad = t.client.request("EDIT_MESSAGE", { message_id: "1", content: "" });
    const [a, b] = t.last().sent.slice(-2);
    t.last().serve({ t: "ERROR", id: b?.id, d: { code: "BAD_REQUEST", message: "content is empty" } });
    t.last().serve({ t: "ACK", id: a?.id, d: {} });
    await expect(ok).resolves.toEqual({});
    await expect(bad).rejects.toBeInstanceOf(RequestError);
    await expect(bad).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("sends heartbeats and drops a silent connection", () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    vi.advanceTimersByTime(1000);
    expect(t.last().sentOf("PING")).toHaveLength(1);
    t.last().serve({ t: "PONG", d: {} });
    vi.advanceTimersByTime(1000);
    expect(t.last().sentOf("PING")).toHaveLength(2);
    vi.advanceTimersByTime(1000); // 2 s without a frame > 1.5 intervals
    expect(t.states.at(-1)).toBe("reconnecting");
  });

  it("stops on a refused token and does not retry protocol errors", () => {
    const t = setup();
    t.client.start();
    t.last().open();
    t.last().drop(4004);
    expect(t.authFailed()).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
    const u = setup();
    u.client.start();
    u.ready(1);
    u.last().drop(4008);
    vi.advanceTimersByTime(60_000);
    expect(u.sockets).toHaveLength(1);
    expect(u.states.at(-1)).toBe("closed");
  });

  it("rejects in-flight requests when the connection is lost", async () => {
    const t = setup();
    t.client.start();
    t.ready(10);
    const pending = t.client.request("DELETE_MESSAGE", { message_id: "1" });
    t.last().drop(1006);
    await expect(pending).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});
