/** A scripted socket for the gateway client's tests: records what the client sends and
 * lets the test play the server. */

import { decode, encode } from "@msgpack/msgpack";
import type { SocketLike } from "./client";

export class FakeSocket implements SocketLike {
  binaryType = "blob";
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;

  constructor(readonly url: string) {}

  send(data: Uint8Array): void {
    this.sent.push(decode(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    this.closedWith = code;
  }

  open(): void {
    this.onopen?.({});
  }

  /** Delivers one server frame, encoded as the server would (IDs as uint64). */
  serve(frame: Record<string, unknown>): void {
    const bytes = encode(frame, { useBigInt64: true });
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** The server (or the network) closes the connection. */
  drop(code = 1006): void {
    this.onclose?.({ code, reason: "" });
  }

  sentOf(t: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.t === t);
  }
}
