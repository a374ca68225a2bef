import { DAY_MS, type Interval, type PropValue } from '@weft/core';
import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { bucketOf, bucketStarts, labels } from './buckets.js';
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
    total: number;
    points: Array<{ t: string; value: number }>;
  }>;
}

const FIELDS = 4;
const NO_VALUE = '\u0000none';

class Accumulator {
  readonly counts: number[];
  readonly sums: number[];
  readonly ns: number[];
  readonly users: RoaringBitmap32[];
  readonly all = new RoaringBitmap32();

  constructor(buckets: number) {
    this.counts = new Array(buckets).fill(0);
    this.sums = new Array(buckets).fill(0);
    this.ns = new Array(buckets).fill(0);
    this.users = Array.from({ length: buckets }, () => new RoaringBitmap32());
  }

  partial(series: number, key: string, value: PropValue): SeriesPartial {
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

function usersFilter(index: ProjectIndex, ids: readonly string[] | undefined): RoaringBitmap32 | null {
  if (!ids) return null;
  const set = new RoaringBitmap32();
  for (const id of ids) {
    const n = index.ids.get(id);
    if (n !== undefined) set.add(n);
  }
  return set;
}

/** One shard's share of an event analysis. */
export function eventsPartial(index: ProjectIndex, q: EventsQuery): SeriesPartial[] {
  const starts = bucketStarts(q.from, q.to, q.interval, q.tz);
  const out: SeriesPartial[] = [];
  const users = usersFilter(index, q.users);
  const prop = metricProp(q.metric);
  const propId = prop === undefined ? -1 : index.values.find(prop);
  const breakdownId = q.breakdown === undefined ? -1 : index.values.find(q.breakdown);
  const firstDay = Math.floor(q.from / DAY_MS);
  const lastDay = Math.floor((q.to - 1) / DAY_MS);
  const times = index.time.data;
  const userCol = index.user.data;
  q.events.forEach((spec, series) => {
    const ev = index.values.find(spec.event);
    const days = ev < 0 ? undefined : index.eventDays.get(ev);
    if (!days) return;
    const where = compileWhere(index, spec.where);
    const accs = new Map<string, { acc: Accumulator; value: PropValue }>();
    const accFor = (key: string, value: PropValue): Accumulator => {
      let entry = accs.get(key);
      if (!entry) {
        entry = { acc: new Accumulator(starts.length), value };
        accs.set(key, entry);
      }
      return entry.acc;
    };
    for (const [day, slot] of days) {
      if (day < firstDay || day > lastDay) continue;
      const dayStart = day * DAY_MS;
      const wholeDay = dayStart >= q.from && dayStart + DAY_MS <= q.to;
      const plain = wholeDay && !where && !users && prop === undefined && q.breakdown === undefined;
      if (plain && q.tz === 'UTC' && q.interval !== 'hour') {
        // The day lies in one bucket: its bitmap and row count answer without a scan.
        const acc = accFor(NO_VALUE, null);
        const b = bucketOf(starts, dayStart);
        acc.counts[b]! += slot.rows.length;
        acc.users[b]!.orInPlace(slot.users);
        acc.all.orInPlace(slot.users);
        continue;
      }
      for (const row of slot.rows) {
        const t = times[row]!;
        if (t < q.from || t >= q.to) continue;
        if (where && !where(row)) continue;
        const user = userCol[row]!;
        if (users && !users.has(user)) continue;
        let acc: Accumulator;
        if (q.breakdown === undefined) acc = accFor(NO_VALUE, null);
        else {
          const vid = breakdownId < 0 ? -1 : index.propValueId(row, breakdownId);
          acc = vid < 0 ? accFor(NO_VALUE, null) : accFor(String(vid), index.values.get(vid));
        }
        const b = bucketOf(starts, t);
        acc.counts[b]!++;
        acc.users[b]!.add(user);
        acc.all.add(user);
        if (propId >= 0) {
          const vid = index.propValueId(row, propId);
          const v = vid < 0 ? undefined : index.values.get(vid);
          if (typeof v === 'number') {
            acc.sums[b]! += v;
            acc.ns[b]!++;
          }
        }
      }
    }
    for (const [key, { acc, value }] of accs) {
      // Value ids differ between shards; the merge keys breakdowns by the value itself.
      out.push(acc.partial(series, key === NO_VALUE ? NO_VALUE : JSON.stringify(value), value));
    }
  });
  return out;
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
  const ordered = [...merged.values()].sort(
    (a, b) => a.series - b.series || b.total[0]! - a.total[0]! || a.key.localeCompare(b.key),
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
      series.push(entry);
    }
  }
  return { series };
}
