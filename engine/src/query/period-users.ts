import { DAY_MS } from '@weft/core';
import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { bucketOf } from './buckets.js';
import type { CompiledSpec } from './step.js';

/**
 * Users with an occurrence of the spec in each period (period p spans [starts[p],
 * starts[p + 1]), the last one ends at `to`), inside [from, to). A UTC day that lies whole
 * in one period and in the range contributes its bitmap when there are no filters; other
 * days are scanned row by row.
 */
export function periodUsers(
  index: ProjectIndex,
  spec: CompiledSpec,
  starts: readonly number[],
  from: number,
  to: number,
): RoaringBitmap32[] {
  const out = starts.map(() => new RoaringBitmap32());
  if (!spec.days) return out;
  const first = Math.floor(from / DAY_MS);
  const last = Math.floor((to - 1) / DAY_MS);
  const times = index.time.data;
  const users = index.user.data;
  const where = spec.where;
  const whole: RoaringBitmap32[][] = starts.map(() => []);
  for (const [day, slot] of spec.days) {
    if (day < first || day > last) continue;
    const dayStart = day * DAY_MS;
    const dayEnd = dayStart + DAY_MS;
    if (where === null && dayStart >= from && dayEnd <= to) {
      const b = bucketOf(starts, dayStart);
      if (b === bucketOf(starts, dayEnd - 1)) {
        whole[b]!.push(slot.users);
        continue;
      }
    }
    const rows = slot.rows.data;
    const n = slot.rows.length;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const t = times[row]!;
      if (t < from || t >= to || (where !== null && !where(row))) continue;
      out[bucketOf(starts, t)]!.add(users[row]!);
    }
  }
  for (let b = 0; b < starts.length; b++) {
    if (whole[b]!.length > 0) out[b]!.orInPlace(RoaringBitmap32.orMany(whole[b]!));
  }
  return out;
}

/** Users with at least one occurrence of the spec inside [from, to): one period spanning the range. */
export function matchingUsers(
  index: ProjectIndex,
  spec: CompiledSpec,
  from: number,
  to: number,
): RoaringBitmap32 {
  return periodUsers(index, spec, [from], from, to)[0]!;
}
