import { bucketLabel } from '@weft/core';
import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { bucketStarts } from './buckets.js';
import { periodUsers } from './period-users.js';
import { segmentUsers } from './segment.js';
import { compileSpec, type EventSpec } from './step.js';

/** A retention request after the edge resolved times (DESIGN §5, §6). */
export interface RetentionQuery {
  start: EventSpec;
  return: EventSpec;
  from: number;
  to: number;
  period: 'day' | 'week';
  /** Periods after the cohort's own (returned has periods + 1 entries). */
  periods: number;
  /** "first": a user belongs only to the cohort of their first start event in the range. */
  cohort: 'each' | 'first';
  tz: string;
  users?: string[];
}

/** Per cohort period: its size and returned[k] for k = 0..periods (flat: cohorts x (periods + 2)). */
export type RetentionPartial = number[];

export interface RetentionResponse {
  cohorts: Array<{ date: string; size: number; returned: number[] }>;
}

/**
 * One shard's share: cohort c = users with the start event in period c (minus earlier
 * cohorts with "first"); returned[k] = those with the return event in period c + k. Periods
 * past the range count nothing, as only events inside [from, to) are read.
 */
export function retentionPartial(index: ProjectIndex, q: RetentionQuery): RetentionPartial {
  const starts = bucketStarts(q.from, q.to, q.period, q.tz);
  const width = q.periods + 2;
  const out: number[] = new Array(starts.length * width).fill(0);
  const startUsers = periodUsers(index, compileSpec(index, q.start), starts, q.from, q.to);
  const returnUsers = periodUsers(index, compileSpec(index, q.return), starts, q.from, q.to);
  const segment = segmentUsers(index, q.users);
  const seen = new RoaringBitmap32();
  for (let c = 0; c < starts.length; c++) {
    const cohort = startUsers[c]!;
    if (segment) cohort.andInPlace(segment);
    if (q.cohort === 'first') {
      cohort.andNotInPlace(seen);
      seen.orInPlace(startUsers[c]!);
    }
    out[c * width] = cohort.size;
    for (let k = 0; k <= q.periods && c + k < starts.length; k++) {
      out[c * width + 1 + k] = cohort.andCardinality(returnUsers[c + k]!);
    }
  }
  return out;
}

export function mergeRetention(q: RetentionQuery, partials: readonly RetentionPartial[]): RetentionResponse {
  const starts = bucketStarts(q.from, q.to, q.period, q.tz);
  const width = q.periods + 2;
  const sum = new Array<number>(starts.length * width).fill(0);
  for (const p of partials) for (let i = 0; i < sum.length; i++) sum[i]! += p[i]!;
  return {
    cohorts: starts.map((s, c) => ({
      date: bucketLabel(s, q.period, q.tz),
      size: sum[c * width]!,
      returned: sum.slice(c * width + 1, (c + 1) * width),
    })),
  };
}
