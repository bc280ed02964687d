/** Frame codec: one MessagePack map per binary WebSocket message (`encoding=msgpack`).
 *
 * Snowflake IDs are uint64 on the wire and exceed 2^53, so frames are decoded with
 * BigInt support and every value under an ID key becomes a decimal string; other
 * integers become numbers. Outbound IDs stay strings: the server accepts decimal
 * strings wherever it takes an ID (and `positions` keys are strings in any case). */

import { decode, encode } from "@msgpack/msgpack";
import type { Frame } from "./types";

/** Keys whose values (or array items) are IDs. */
export function isIdKey(key: string): boolean {
  return (
    key === "id" ||
    key.endsWith("_id") ||
    key.endsWith("_ids") ||
    key === "reply_to" ||
    key === "resync"
  );
}

function toId(value: unknown): unknown {
  if (typeof value === "bigint" || typeof value === "number") return value.toString();
  if (Array.isArray(value)) return value.map(toId);
  return value;
}

/** Turns decoded MessagePack values into the client's shapes (see the module doc). */
export function normalize(value: unknown, key = ""): unknown {
  if (typeof value === "bigint") {
    return isIdKey(key) ? value.toString() : Number(value);
  }
  if (Array.isArray(value)) {
    return isIdKey(key) ? value.map(toId) : value.map((v) => normalize(v));
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v, k);
    return out;
  }
  if (typeof value === "number" && isIdKey(key)) return value.toString();
  return value;
}

export class FrameError extends Error {}

/** Decodes one binary message into a frame; throws [`FrameError`] on a bad envelope. */
export function decodeFrame(bytes: ArrayBuffer | Uint8Array): Frame {
  const raw = decode(bytes, { useBigInt64: true });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new FrameError("frame is not a map");
  }
  const map = raw as Record<string, unknown>;
  if (typeof map.t !== "string") throw new FrameError("frame has no event name");
  const d = map.d === undefined || map.d === null ? {} : normalize(map.d);
  if (typeof d !== "object" || d === null || Array.isArray(d)) {
    throw new FrameError("frame data is not a map");
  }
  const frame: Frame = { t: map.t, d: d as Record<string, unknown> };
  if (map.id !== undefined && map.id !== null) frame.id = Number(map.id);
  if (map.s !== undefined && map.s !== null) frame.s = Number(map.s);
  return frame;
}

/** Encodes a frame for the wire (absent optional fields are left out). */
export function encodeFrame(frame: Frame): Uint8Array {
  const out: Record<string, unknown> = { t: frame.t, d: frame.d };
  if (frame.id !== undefined) out.id = frame.id;
  return encode(out, { ignoreUndefined: true });
}
