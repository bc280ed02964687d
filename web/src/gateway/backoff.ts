/** Reconnect delays: exponential from `baseMs` to `maxMs`, with full jitter on the upper
 * half so that many clients dropped together do not come back together. */

export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 500,
  maxMs = 15_000,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Close codes after which the client reconnects (PROTOCOL.md section 8); the others
 * mean "do not retry without changing what is sent". */
export function shouldReconnect(code: number): boolean {
  return ![4002, 4003, 4004, 4005, 4008].includes(code);
}
