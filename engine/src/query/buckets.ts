import { bucketLabel, bucketStart, type Interval, nextBucket } from '@weft/core';

/** The interval starts covering [from, to), so scans can find a row's bucket by binary search. */
export function bucketStarts(from: number, to: number, interval: Interval, tz: string): number[] {
  const starts: number[] = [];
  for (let t = bucketStart(from, interval, tz); t < to; t = nextBucket(t, interval, tz)) starts.push(t);
  return starts;
}

/** Index of the bucket containing `t` (starts ascending, t >= starts[0]). */
export function bucketOf(starts: readonly number[], t: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function labels(starts: readonly number[], interval: Interval, tz: string): string[] {
  return starts.map((s) => bucketLabel(s, interval, tz));
}
