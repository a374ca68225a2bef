import { DAY_MS, type Interval, type PropValue } from '@weft/core';
import { type Growable, u32 } from '../index/growable.js';
import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { ValueTable } from '../index/value-table.js';
import { bucketOf, bucketStarts, labels } from './buckets.js';
import { segmentUsers } from './segment.js';
import { ValueTally } from './value-tally.js';
import { compileWhere, type WhereClause } from './where.js';

export type EventsMetric = 'count' | 'uniques' | 'per_user' | { sum: string } | { avg: string };

/** An event-analysis request after the edge resolved times (DESIGN §6). */
export interface EventsQuery {
  events: Array<{ event: string; where?: WhereClause[] }>;
  metric: EventsMetric;
  from: number;
  to: number;
  interval: Interval;
  breakdown?: string;
  tz: string;
  /** Restrict to these distinct ids (a segment, until segments exist as bitmaps). */
  users?: string[];
  /** With a breakdown: how many values to keep per series; the rest fold into "other". */
  top?: number;
  /**
   * Second pass of a breakdown with more than `top` values: per series, the value keys
   * (JSON) to keep. Shards fold every other value into one "other" group, so its distinct
   * users are counted once however many values it spans.
   */
  keep?: string[][];
}

/** Per series and breakdown value: [count, uniques, sum, n] per bucket, flat, and for the whole range. */
export interface SeriesPartial {
  series: number;
  key: string;
  value: PropValue;
  points: number[];
  total: number[];
}

export interface EventsResponse {
  series: Array<{
    event: string;
    breakdown?: PropValue;
    /** True for the group of the values past the top N. */
    other?: true;
    total: number;
    points: Array<{ t: string; value: number }>;
  }>;
}

export const FIELDS = 4;
/** Partial keys of the no-breakdown group (and absent values) and of the folded rest. */
export const NO_VALUE = '\u0000none';
export const OTHER = '\u0000other';

/** Users are buffered per bucket and added to bitmaps in bulk: one native call per batch, not per row. */
const USER_BATCH = 1 << 16;
const GROUP_CACHE_MASK = 63;
/** Stands in for the bitmaps of a query that counts no users: always empty, never written. */
const NO_USERS = new RoaringBitmap32();

/**
 * Per bucket: count, sum and n, and distinct users only when the query needs them: bitmaps
 * carry native memory, and creating hundreds per query for a count made V8 start major GCs
 * that stalled the scan.
 */
class Accumulator {
  readonly counts: number[];
  readonly sums: number[];
  readonly ns: number[];
  readonly users: RoaringBitmap32[];
  readonly all: RoaringBitmap32;
  private readonly pending: Array<Growable<Uint32Array>>;

  constructor(buckets: number, withUsers: boolean) {
    this.counts = new Array(buckets).fill(0);
    this.sums = new Array(buckets).fill(0);
    this.ns = new Array(buckets).fill(0);
    this.all = withUsers ? new RoaringBitmap32() : NO_USERS;
    this.users = Array.from({ length: buckets }, () => (withUsers ? new RoaringBitmap32() : NO_USERS));
    this.pending = withUsers ? Array.from({ length: buckets }, () => u32(64)) : [];
  }

  addUser(bucket: number, user: number): void {
    const p = this.pending[bucket]!;
    p.push(user);
    if (p.length >= USER_BATCH) this.flush(bucket);
  }

  private flush(bucket: number): void {
    const p = this.pending[bucket]!;
    if (p.length === 0) return;
    const batch = p.view();
    this.users[bucket]!.addMany(batch);
    this.all.addMany(batch);
    p.length = 0;
  }

  partial(series: number, key: string, value: PropValue): SeriesPartial {
    for (let b = 0; b < this.pending.length; b++) this.flush(b);
    const points: number[] = [];
    const total = [0, this.all.size, 0, 0];
    for (let b = 0; b < this.counts.length; b++) {
      points.push(this.counts[b]!, this.users[b]!.size, this.sums[b]!, this.ns[b]!);
      total[0]! += this.counts[b]!;
      total[2]! += this.sums[b]!;
      total[3]! += this.ns[b]!;
    }
    return { series, key, value, points, total };
  }
}

function metricProp(metric: EventsMetric): string | undefined {
  if (typeof metric === 'string') return undefined;
  return 'sum' in metric ? metric.sum : metric.avg;
}

/** One shard's share of an event analysis. */
export function eventsPartial(index: ProjectIndex, q: EventsQuery): SeriesPartial[] {
  const starts = bucketStarts(q.from, q.to, q.interval, q.tz);
  const out: SeriesPartial[] = [];
  const users = segmentUsers(index, q.users);
  const prop = metricProp(q.metric);
  const propId = prop === undefined ? -1 : index.values.find(prop);
  const breakdownId = q.breakdown === undefined ? -1 : index.values.find(q.breakdown);
  const firstDay = Math.floor(q.from / DAY_MS);
  const lastDay = Math.floor((q.to - 1) / DAY_MS);
  const times = index.time.data;
  const userCol = index.user.data;
  // Distinct users are only counted when the metric (or the ranking of top values) needs them.
  const needUsers = q.metric === 'uniques' || q.metric === 'per_user';
  q.events.forEach((spec, series) => {
    const ev = index.values.find(spec.event);
    const days = ev < 0 ? undefined : index.eventDays.get(ev);
    if (!days) return;
    const where = compileWhere(index, spec.where);
    const keep = q.keep === undefined ? undefined : new Set(q.keep[series]);
    // Keyed by the value itself (value ids differ between shards), so shard partials merge by key.
    const accs = new Map<string, { acc: Accumulator; value: PropValue }>();
    const accFor = (key: string, value: PropValue): Accumulator => {
      let entry = accs.get(key);
      if (!entry) {
        entry = { acc: new Accumulator(starts.length, needUsers), value };
        accs.set(key, entry);
      }
      return entry.acc;
    };
    let plainAcc: Accumulator | undefined;
    const byValueId = new Map<number, Accumulator>();
    const cachedVid = new Int32Array(GROUP_CACHE_MASK + 1).fill(-2);
    const cachedAcc: Array<Accumulator | undefined> = new Array(GROUP_CACHE_MASK + 1).fill(undefined);
    const groupFor = (vid: number): Accumulator => {
      let acc = byValueId.get(vid);
      if (!acc) {
        // An absent property and an explicit null are one group, as in SQL.
        const value = vid <= ValueTable.NULL ? null : index.values.get(vid);
        const key = vid <= ValueTable.NULL ? NO_VALUE : keyOf(value);
        acc = keep !== undefined && !keep.has(key) ? accFor(OTHER, null) : accFor(key, value);
        byValueId.set(vid, acc);
      }
      return acc;
    };
    let tallyBucket = 0;
    const tally = new ValueTally((vid, count) => {
      groupFor(vid).counts[tallyBucket]! += count;
    });
    for (const [day, slot] of days) {
      if (day < firstDay || day > lastDay) continue;
      const dayStart = day * DAY_MS;
      const wholeDay = dayStart >= q.from && dayStart + DAY_MS <= q.to;
      // When the part of the day inside the range falls in one bucket, rows need no bucket search.
      const first = bucketOf(starts, Math.max(dayStart, q.from));
      const oneBucket = first === bucketOf(starts, Math.min(dayStart + DAY_MS, q.to) - 1) ? first : -1;
      const plain = wholeDay && !where && !users && prop === undefined && q.breakdown === undefined;
      if (plain && oneBucket >= 0) {
        // Its bitmap and row count answer without a scan.
        const acc = accFor(NO_VALUE, null);
        acc.counts[oneBucket]! += slot.rows.length;
        if (needUsers) {
          acc.users[oneBucket]!.orInPlace(slot.users);
          acc.all.orInPlace(slot.users);
        }
        continue;
      }
      const rows = slot.rows.data;
      const rowCount = slot.rows.length;
      const breakdownValues = breakdownId < 0 ? null : index.slotColumn(slot, breakdownId);
      const metricValues = propId < 0 ? null : index.slotColumn(slot, propId);
      if (
        breakdownValues !== null &&
        q.metric === 'count' &&
        wholeDay &&
        oneBucket >= 0 &&
        !where &&
        !users
      ) {
        // Counting rows per value in one bucket needs no row, time or user: tally the column.
        tallyBucket = oneBucket;
        tally.add(breakdownValues, rowCount);
        tally.drain();
        continue;
      }
      for (let i = 0; i < rowCount; i++) {
        const row = rows[i]!;
        if (!wholeDay) {
          const t = times[row]!;
          if (t < q.from || t >= q.to) continue;
        }
        if (where !== null && !where(row)) continue;
        if (users !== null && !users.has(userCol[row]!)) continue;
        let acc: Accumulator;
        if (breakdownId < 0)
          acc = q.breakdown === undefined ? (plainAcc ??= accFor(NO_VALUE, null)) : groupFor(-1);
        else {
          const vid = breakdownValues![i]!;
          // A small direct-mapped cache in front of the map: breakdowns have few hot values.
          const c = vid & GROUP_CACHE_MASK;
          if (cachedVid[c] === vid) acc = cachedAcc[c]!;
          else {
            acc = groupFor(vid);
            cachedVid[c] = vid;
            cachedAcc[c] = acc;
          }
        }
        const b = oneBucket >= 0 ? oneBucket : bucketOf(starts, times[row]!);
        acc.counts[b]!++;
        if (needUsers) acc.addUser(b, userCol[row]!);
        if (metricValues !== null) {
          const vid = metricValues[i]!;
          const v = vid < 0 ? undefined : index.values.get(vid);
          if (typeof v === 'number') {
            acc.sums[b]! += v;
            acc.ns[b]!++;
          }
        }
      }
    }
    for (const [key, { acc, value }] of accs) out.push(acc.partial(series, key, value));
  });
  return out;
}

/** The key of a breakdown value across shards (value ids differ between shards). */
function keyOf(value: PropValue): string {
  return JSON.stringify(value);
}

function metricValue(metric: EventsMetric, count: number, uniques: number, sum: number, n: number): number {
  if (metric === 'count') return count;
  if (metric === 'uniques') return uniques;
  if (metric === 'per_user') return uniques === 0 ? 0 : count / uniques;
  if ('sum' in metric) return sum;
  return n === 0 ? 0 : sum / n;
}

/** Adds the shards' partials (their users are disjoint, so uniques add too) into the response. */
export function mergeEvents(q: EventsQuery, partials: readonly SeriesPartial[][]): EventsResponse {
  const starts = bucketStarts(q.from, q.to, q.interval, q.tz);
  const names = labels(starts, q.interval, q.tz);
  const merged = new Map<
    string,
    { series: number; value: PropValue; key: string; points: number[]; total: number[] }
  >();
  for (const shard of partials) {
    for (const p of shard) {
      const id = `${p.series}\u0000${p.key}`;
      const m = merged.get(id);
      if (!m) {
        merged.set(id, {
          series: p.series,
          value: p.value,
          key: p.key,
          points: [...p.points],
          total: [...p.total],
        });
        continue;
      }
      for (let i = 0; i < p.points.length; i++) m.points[i]! += p.points[i]!;
      for (let i = 0; i < FIELDS; i++) m.total[i]! += p.total[i]!;
    }
  }
  const series: EventsResponse['series'] = [];
  const rank = (m: { key: string; total: number[] }) =>
    m.key === OTHER
      ? Number.NEGATIVE_INFINITY
      : metricValue(q.metric, m.total[0]!, m.total[1]!, m.total[2]!, m.total[3]!);
  const ordered = [...merged.values()].sort(
    (a, b) => a.series - b.series || rank(b) - rank(a) || a.key.localeCompare(b.key),
  );
  for (let s = 0; s < q.events.length; s++) {
    const forSeries = ordered.filter((m) => m.series === s);
    if (forSeries.length === 0) {
      forSeries.push({
        series: s,
        value: null,
        key: NO_VALUE,
        points: new Array(starts.length * FIELDS).fill(0),
        total: [0, 0, 0, 0],
      });
    }
    for (const m of forSeries) {
      const points = names.map((t, b) => {
        const o = b * FIELDS;
        return {
          t,
          value: metricValue(q.metric, m.points[o]!, m.points[o + 1]!, m.points[o + 2]!, m.points[o + 3]!),
        };
      });
      const entry: EventsResponse['series'][number] = {
        event: q.events[s]!.event,
        total: metricValue(q.metric, m.total[0]!, m.total[1]!, m.total[2]!, m.total[3]!),
        points,
      };
      if (q.breakdown !== undefined) entry.breakdown = m.key === NO_VALUE ? null : m.value;
      if (m.key === OTHER) {
        entry.breakdown = '$other';
        entry.other = true;
      }
      series.push(entry);
    }
  }
  return { series };
}

/**
 * After a first pass over a breakdown: per series, the keys of the top `q.top` values by the
 * metric's total, or undefined when no series has more (no second pass needed).
 */
export function topBreakdownKeys(
  q: EventsQuery,
  partials: readonly SeriesPartial[][],
): string[][] | undefined {
  const top = q.top;
  if (q.breakdown === undefined || top === undefined) return undefined;
  const totals = q.events.map(() => new Map<string, number[]>());
  for (const shard of partials) {
    for (const p of shard) {
      const t = totals[p.series]!.get(p.key);
      if (!t) totals[p.series]!.set(p.key, [...p.total]);
      else for (let i = 0; i < FIELDS; i++) t[i]! += p.total[i]!;
    }
  }
  if (totals.every((m) => m.size <= top)) return undefined;
  return totals.map((m) =>
    [...m.entries()]
      .map(([key, t]) => ({ key, v: metricValue(q.metric, t[0]!, t[1]!, t[2]!, t[3]!) }))
      .sort((a, b) => b.v - a.v || a.key.localeCompare(b.key))
      .slice(0, top)
      .map((e) => e.key),
  );
}

/**
 * After the first pass: the response when it is complete, or the values to keep when "other"
 * needs a second pass. Counts, sums and averages of the folded values add up from the
 * partials; distinct users do not (a user may have several values), so those re-scan.
 */
export function finishEvents(
  q: EventsQuery,
  partials: readonly SeriesPartial[][],
): { response: EventsResponse } | { keep: string[][] } {
  const keep = topBreakdownKeys(q, partials);
  if (keep === undefined) return { response: mergeEvents(q, partials) };
  if (q.metric === 'uniques' || q.metric === 'per_user') return { keep };
  const kept = keep.map((k) => new Set(k));
  const folded: SeriesPartial[] = [];
  const other = new Map<number, SeriesPartial>();
  for (const shard of partials) {
    for (const p of shard) {
      if (kept[p.series]!.has(p.key)) {
        folded.push(p);
        continue;
      }
      const o = other.get(p.series);
      if (!o) {
        other.set(p.series, { ...p, key: OTHER, value: null, points: [...p.points], total: [...p.total] });
        continue;
      }
      for (let i = 0; i < p.points.length; i++) o.points[i]! += p.points[i]!;
      for (let i = 0; i < FIELDS; i++) o.total[i]! += p.total[i]!;
    }
  }
  return { response: mergeEvents({ ...q, keep }, [[...folded, ...other.values()]]) };
}
