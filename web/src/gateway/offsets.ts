/** Channel offsets as this tab has applied them: the `positions` of a reconnect, and
 * the check of each channel event's `s` (PROTOCOL.md section 5). */

export type Verdict = "apply" | "duplicate" | "gap";

export class Offsets {
  private readonly map = new Map<string, number>();

  /** Checks `s` for `channelId` and advances on "apply". An unknown channel starts at
   * its first event. A repeat (at or below the last) is "duplicate"; a jump is "gap". */
  check(channelId: string, s: number): Verdict {
    const last = this.map.get(channelId);
    if (last !== undefined) {
      if (s <= last) return "duplicate";
      if (s > last + 1) return "gap";
    }
    this.map.set(channelId, s);
    return "apply";
  }

  get(channelId: string): number | undefined {
    return this.map.get(channelId);
  }

  /** Sets the offset (a resync, or a channel first seen in READY). */
  set(channelId: string, offset: number): void {
    this.map.set(channelId, offset);
  }

  /** Sets the offset only when the channel is unknown or behind it. */
  raise(channelId: string, offset: number): void {
    const last = this.map.get(channelId);
    if (last === undefined || offset > last) this.map.set(channelId, offset);
  }

  /** Keeps only the given channels (the ones READY says the user still sees). */
  retain(channelIds: Iterable<string>): void {
    const keep = new Set(channelIds);
    for (const id of [...this.map.keys()]) if (!keep.has(id)) this.map.delete(id);
  }

  delete(channelId: string): void {
    this.map.delete(channelId);
  }

  /** The `positions` map for IDENTIFY. */
  positions(): Record<string, number> {
    return Object.fromEntries(this.map);
  }

  get size(): number {
    return this.map.size;
  }
}

/** The channel a channel event belongs to. */
export function eventChannel(d: Record<string, unknown>): string | undefined {
  if (typeof d.channel_id === "string") return d.channel_id;
  const message = d.message as { channel_id?: unknown } | undefined;
  if (message && typeof message.channel_id === "string") return message.channel_id;
  const channel = d.channel as { id?: unknown } | undefined;
  if (channel && typeof channel.id === "string") return channel.id;
  return undefined;
}
