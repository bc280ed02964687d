import { describe, expect, it } from "vitest";
import { encode } from "@msgpack/msgpack";
import { decodeFrame, encodeFrame, FrameError } from "./codec";

const big = 1n << 60n;

describe("frame codec", () => {
  it("turns uint64 ids into exact decimal strings and other numbers into numbers", () => {
    const bytes = encode(
      {
        t: "MESSAGE_RECEIVED",
        s: 7n,
        d: {
          message: {
            id: big + 1n,
            channel_id: big,
            author: { id: 12, username: "ann", display_name: "Ann" },
            created_at: 1_760_000_000_000n,
            reply_to: big + 5n,
            attachments: [],
            reactions: [{ emoji: "👍", count: 2 }],
          },
        },
      },
      { useBigInt64: true },
    );
    const frame = decodeFrame(bytes);
    expect(frame.s).toBe(7);
    const m = frame.d.message as Record<string, unknown>;
    expect(m.id).toBe("1152921504606846977");
    expect(m.channel_id).toBe("1152921504606846976");
    expect(m.reply_to).toBe("1152921504606846981");
    expect(m.created_at).toBe(1_760_000_000_000);
    expect((m.author as Record<string, unknown>).id).toBe("12");
  });

  it("converts id arrays (resync, blocked_user_ids)", () => {
    const frame = decodeFrame(encode({ t: "READY", d: { resync: [big], blocked_user_ids: [3n] } }, { useBigInt64: true }));
    expect(frame.d.resync).toEqual(["1152921504606846976"]);
    expect(frame.d.blocked_user_ids).toEqual(["3"]);
  });

  it("rejects envelopes that are not a map with a string t", () => {
    expect(() => decodeFrame(encode([1, 2]))).toThrow(FrameError);
    expect(() => decodeFrame(encode({ t: 5, d: {} }))).toThrow(FrameError);
    expect(() => decodeFrame(encode({ t: "X", d: [1] }))).toThrow(FrameError);
  });

  it("encodes a request with its id and without absent fields", () => {
    const bytes = encodeFrame({ t: "PING", d: {}, id: 9 });
    const back = decodeFrame(bytes);
    expect(back).toEqual({ t: "PING", d: {}, id: 9 });
    const noId = encodeFrame({ t: "STOP_TYPING", d: { channel_id: "5", x: undefined } });
    expect(decodeFrame(noId)).toEqual({ t: "STOP_TYPING", d: { channel_id: "5" } });
  });
});
