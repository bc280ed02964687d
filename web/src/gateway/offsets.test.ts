import { describe, expect, it } from "vitest";
import { backoffDelay, shouldReconnect } from "./backoff";
import { eventChannel, Offsets } from "./offsets";

describe("offsets", () => {
  it("applies the next offset, drops repeats and reports gaps", () => {
    const o = new Offsets();
    o.set("c", 4);
    expect(o.check("c", 5)).toBe("apply");
    expect(o.check("c", 5)).toBe("duplicate");
    expect(o.check("c", 3)).toBe("duplicate");
    expect(o.check("c", 7)).toBe("gap");
    expect(o.get("c")).toBe(5);
    expect(o.check("new", 40)).toBe("apply");
    expect(o.positions()).toEqual({ c: 5, new: 40 });
  });

  it("raise never moves back; retain forgets channels no longer visible", () => {
    const o = new Offsets();
    o.set("a", 10);
    o.raise("a", 8);
    o.raise("b", 3);
    expect(o.positions()).toEqual({ a: 10, b: 3 });
    o.retain(["b"]);
    expect(o.positions()).toEqual({ b: 3 });
  });

  it("finds the channel of each channel event", () => {
    expect(eventChannel({ channel_id: "1" })).toBe("1");
    expect(eventChannel({ message: { channel_id: "2" } })).toBe("2");
    expect(eventChannel({ user_id: "3" })).toBeUndefined();
  });
});

describe("backoff", () => {
  it("grows, is capped and jittered within the upper half", () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    expect(backoffDelay(30, () => 1)).toBe(15_000);
    expect(backoffDelay(30, () => 0)).toBe(7_500);
  });

  it("reconnects after drops and drains, not after protocol or auth errors", () => {
    for (const code of [1000, 1001, 1006, 4000, 4009, 4010]) expect(shouldReconnect(code)).toBe(true);
    for (const code of [4002, 4003, 4004, 4005, 4008]) expect(shouldReconnect(code)).toBe(false);
  });
});
