/** The gateway connection of a tab: IDENTIFY/READY, heartbeats, reconnection with
 * backoff and `positions`, offset checks (duplicates dropped, a gap reconnects), request
 * ids, and the outbox of optimistic sends that are resent with the same `nonce` after a
 * reconnect so that nothing is lost or stored twice. Pure TypeScript: the socket is
 * injected, so tests drive it with a fake. */

import { backoffDelay, shouldReconnect } from "./backoff";
import { decodeFrame, encodeFrame } from "./codec";
import { eventChannel, Offsets } from "./offsets";
import type { Frame, GatewayError, Message, Ready } from "./types";

export interface SocketLike {
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionState = "connecting" | "ready" | "reconnecting" | "closed";

export interface GatewayHandlers {
  /** READY; `replayed` are the channels whose missed events follow it (the client's
   * state for them stays, the replay brings it up to date). */
  ready(ready: Ready, replayed: string[]): void;
  /** A channel event (checked against its offset) or an ephemeral event. */
  event(frame: Frame): void;
  /** Channels whose gap could not be replayed: reload them. */
  resync(channelIds: string[]): void;
  state(state: ConnectionState, detail?: string): void;
  /** The token was refused (close 4004). */
  authFailed(): void;
}

export interface SendData {
  channel_id: string;
  content: string;
  reply_to?: string;
  attachment_ids?: string[];
}

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

interface PendingRequest {
  resolve(d: Record<string, unknown>): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface OutboxEntry {
  nonce: string;
  data: SendData;
  resolve(message: Message): void;
  reject(err: Error): void;
}

export interface GatewayOptions {
  url: string;
  token: () => string | null;
  handlers: GatewayHandlers;
  socket?: (url: string) => SocketLike;
  random?: () => number;
  requestTimeoutMs?: number;
}

const REPLY_EVENTS = new Set(["ACK", "ERROR", "PONG", "MESSAGES_LOADED"]);

export class GatewayClient {
  readonly offsets = new Offsets();
  private socket: SocketLike | null = null;
  private state: ConnectionState = "closed";
  private stopped = true;
  private attempt = 0;
  private nextId = 1;
  private heartbeatMs = 30_000;
  private lastFrameAt = 0;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private readonly requests = new Map<number, PendingRequest>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly sendIds = new Map<number, string>();
  /** The channels of the last IDENTIFY's `positions`. */
  private identified = new Set<string>();

  constructor(private readonly options: GatewayOptions) {}

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Opens the connection (and keeps it open until [`stop`]). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect("connecting");
  }

  /** Closes for good (logout): pending requests and sends fail. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.abandonSocket(1000);
    for (const entry of this.outbox.values()) entry.reject(new Error("signed out"));
    this.outbox.clear();
    this.setState("closed");
  }

  /** Treats the connection as lost now (the browser went offline, a gap was seen). */
  drop(): void {
    if (this.stopped || !this.socket) return;
    this.abandonSocket(1006);
  }

  /** Reconnects at once instead of waiting for the backoff (the browser is online). */
  reconnectNow(): void {
    if (this.stopped || this.socket) return;
    if (this.retry) clearTimeout(this.retry);
    this.connect("reconnecting");
  }

  /** Sends a request and resolves with the `d` of its reply (ERROR rejects). */
  request(t: string, d: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.state !== "ready" || !this.socket) {
      return Promise.reject(new RequestError("UNAVAILABLE", "not connected"));
    }
    return new Promise((resolve, reject) => {
      const id = this.takeId();
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new RequestError("UNAVAILABLE", `${t} timed out`));
      }, this.options.requestTimeoutMs ?? 15_000);
      this.requests.set(id, { resolve, reject, timer });
      this.write({ t, d, id });
    });
  }

  /** Fire-and-forget (typing): no id, so a success gets no ACK. */
  notify(t: string, d: Record<string, unknown>): void {
    if (this.state === "ready") this.write({ t, d });
  }

  /** An optimistic send: kept until its ACK, resent with the same nonce after each
   * reconnect, so the server stores it exactly once. */
  sendMessage(data: SendData, nonce: string): Promise<Message> {
    return new Promise((resolve, reject) => {
      this.outbox.set(nonce, { nonce, data, resolve, reject });
      if (this.state === "ready") this.transmit(nonce);
    });
  }

  /** The nonces of sends still waiting for their ACK. */
  pendingNonces(): string[] {
    return [...this.outbox.keys()];
  }

  private transmit(nonce: string): void {
    const entry = this.outbox.get(nonce);
    if (!entry) return;
    const id = this.takeId();
    this.sendIds.set(id, nonce);
    this.write({ t: "SEND_MESSAGE", d: { ...entry.data, nonce }, id });
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    return id;
  }

  private write(frame: Frame): void {
    this.socket?.send(encodeFrame(frame));
  }

  private setState(state: ConnectionState, detail?: string): void {
    this.state = state;
    this.options.handlers.state(state, detail);
  }

  private connect(state: ConnectionState): void {
    this.retry = null;
    this.setState(state);
    const make = this.options.socket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let socket: SocketLike;
    try {
      socket = make(this.options.url);
    } catch (err) {
      this.setState("closed", `cannot open the gateway: ${String(err)}`);
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => this.identify();
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onclose = (ev) => {
      if (this.socket === socket) this.closed(ev.code);
    };
    socket.onerror = () => undefined;
  }

  private identify(): void {
    const token = this.options.token();
    if (!token) {
      this.stop();
      this.options.handlers.authFailed();
      return;
    }
    const d: Record<string, unknown> = { token };
    const positions = this.offsets.positions();
    this.identified = new Set(Object.keys(positions));
    if (this.identified.size > 0) d.positions = positions;
    this.lastFrameAt = Date.now();
    this.write({ t: "IDENTIFY", d });
  }

  private receive(data: unknown): void {
    if (!(data instanceof ArrayBuffer) && !(data instanceof Uint8Array)) return;
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch {
      return; // the server never sends a bad frame; ignore rather than crash the tab
    }
    this.lastFrameAt = Date.now();
    if (frame.t === "READY") return this.ready(frame.d as unknown as Ready);
    if (frame.id !== undefined && REPLY_EVENTS.has(frame.t)) return this.reply(frame);
    if (frame.t === "ERROR" || frame.t === "PONG") return;
    if (frame.s !== undefined) {
      const channel = eventChannel(frame.d);
      if (channel !== undefined) {
        const verdict = this.offsets.check(channel, frame.s);
        if (verdict === "duplicate") return;
        if (verdict === "gap") return this.drop();
      }
    }
    this.options.handlers.event(frame);
  }

  private ready(ready: Ready): void {
    this.attempt = 0;
    this.heartbeatMs = ready.heartbeat_interval_ms > 0 ? ready.heartbeat_interval_ms : 30_000;
    this.offsets.retain(ready.channels.map((c) => c.id));
    const resync = new Set(ready.resync);
    for (const channel of ready.channels) {
      // A channel sent in `positions` is replayed from there: it keeps its offset.
      if (resync.has(channel.id) || !this.identified.has(channel.id)) {
        this.offsets.set(channel.id, channel.offset);
      }
    }
    this.startHeartbeat();
    this.setState("ready");
    const replayed = ready.channels.map((c) => c.id).filter((id) => this.identified.has(id) && !resync.has(id));
    this.options.handlers.ready(ready, replayed);
    if (ready.resync.length > 0) this.options.handlers.resync(ready.resync);
    for (const nonce of this.outbox.keys()) this.transmit(nonce);
  }

  private reply(frame: Frame): void {
    const id = frame.id as number;
    const nonce = this.sendIds.get(id);
    if (nonce !== undefined) {
      this.sendIds.delete(id);
      const entry = this.outbox.get(nonce);
      if (!entry) return;
      this.outbox.delete(nonce);
      if (frame.t === "ACK") entry.resolve(frame.d.message as Message);
      else entry.reject(toError(frame.d));
      return;
    }
    const pending = this.requests.get(id);
    if (!pending) return;
    this.requests.delete(id);
    clearTimeout(pending.timer);
    if (frame.t === "ERROR") pending.reject(toError(frame.d));
    else pending.resolve(frame.d);
  }

  private startHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastFrameAt > this.heartbeatMs * 1.5) return this.drop();
      this.write({ t: "PING", d: {} });
    }, this.heartbeatMs);
  }

  private abandonSocket(code: number): void {
    const socket = this.socket;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
    try {
      socket.close(1000);
    } catch {
      // already closed
    }
    this.closed(code);
  }

  private closed(code: number): void {
    this.socket = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.sendIds.clear();
    for (const pending of this.requests.values()) {
      clearTimeout(pending.timer);
      pending.reject(new RequestError("UNAVAILABLE", "connection lost"));
    }
    this.requests.clear();
    if (this.stopped) return;
    if (code === 4004) {
      this.stop();
      this.options.handlers.authFailed();
      return;
    }
    if (!shouldReconnect(code)) {
      this.stopped = true;
      this.setState("closed", `the gateway closed the connection (${code})`);
      return;
    }
    const delay = backoffDelay(this.attempt++, this.options.random);
    this.setState("reconnecting");
    this.retry = setTimeout(() => this.connect("reconnecting"), delay);
  }
}

function toError(d: Record<string, unknown>): RequestError {
  const e = d as unknown as GatewayError;
  return new RequestError(e.code ?? "INTERNAL", e.message ?? "request failed", e.retry_after_ms ?? undefined);
}
