/** Snowflake IDs as decimal strings: ordering and creation time without BigInt math in
 * hot paths. */

/** Orders two decimal ID strings numerically. */
export function cmpId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

const EPOCH_MS = Date.UTC(2024, 0, 1);

/** When a snowflake was made (ms since the Unix epoch). */
export function idTime(id: string): number {
  try {
    return Number(BigInt(id) >> 22n) + EPOCH_MS;
  } catch {
    return 0;
  }
}

/** Inserts `id` into the ascending `ids` (no duplicates); returns a new array. */
export function insertSorted(ids: readonly string[], id: string): string[] {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = cmpId(ids[mid] as string, id);
    if (c === 0) return ids as string[];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return [...ids.slice(0, lo), id, ...ids.slice(lo)];
}

/** Merges ascending `ids` with any (unsorted) `more`, without duplicates. */
export function mergeIds(ids: readonly string[], more: readonly string[]): string[] {
  const all = new Set([...ids, ...more]);
  return [...all].sort(cmpId);
}

/** The smallest snowflake made at `ms` (for "before"/"after" a date). */
export function idAt(ms: number): string {
  const since = Math.max(0, Math.floor(ms) - EPOCH_MS);
  return (BigInt(since) << 22n).toString();
}
