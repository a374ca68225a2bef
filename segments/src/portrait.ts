import type { PropValue } from '@weft/core';

/**
 * Portraits of a segment's members: how one property is distributed. Accumulators take
 * values one at a time (from a stream or per shard) and merge, so shards can each build one
 * and the HTTP thread combines them; the functions below are the one-shot forms.
 */

export interface EnumPortrait {
  /** Values seen, including absent ones. */
  total: number;
  /** Members without the property. */
  missing: number;
  /** Distinct present values. */
  distinct: number;
  /** The most frequent values, most frequent first (ties in value order). */
  top: Array<{ value: PropValue; count: number }>;
  /** Members whose value is present but not among `top`. */
  other: number;
}

/** Orders values of mixed types deterministically: by type, then by value. */
function compareValues(a: PropValue, b: PropValue): number {
  const rank = (v: PropValue): number =>
    v === null ? 0 : typeof v === 'boolean' ? 1 : typeof v === 'number' ? 2 : 3;
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export class EnumCounter {
  private readonly counts = new Map<PropValue, number>();
  private total = 0;
  private missing = 0;

  /** `undefined` is a member without the property; values keep their type (1 is not "1"). */
  add(value: PropValue | undefined): void {
    this.total++;
    if (value === undefined) this.missing++;
    else this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  merge(other: EnumCounter): void {
    this.total += other.total;
    this.missing += other.missing;
    for (const [v, n] of other.counts) this.counts.set(v, (this.counts.get(v) ?? 0) + n);
  }

  result(top = 10): EnumPortrait {
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1] || compareValues(a[0], b[0]));
    const kept = sorted.slice(0, Math.max(0, top));
    const keptCount = kept.reduce((sum, [, n]) => sum + n, 0);
    return {
      total: this.total,
      missing: this.missing,
      distinct: this.counts.size,
      top: kept.map(([value, count]) => ({ value, count })),
      other: this.total - this.missing - keptCount,
    };
  }
}

export interface NumericPortrait {
  /** Values seen, including absent and non-numeric ones. */
  total: number;
  /** Numeric values summarized. */
  count: number;
  /** Absent, or present but not a finite number. */
  missing: number;
  /** Null when `count` is 0. */
  min: number | null;
  max: number | null;
  mean: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
}

/**
 * Exact quartiles by ClickHouse's quantileExact definition (as the engine's analyses use
 * it): the quantile at level p of n sorted values is the element at index floor(p × n),
 * so the median of an even count is the upper middle value and every quartile is a value
 * that occurs. The same numbers come out of `quantileExact(p)(x)` in SQL.
 */
export class NumberCollector {
  private values = new Float64Array(64);
  private n = 0;
  private total = 0;

  add(value: PropValue | undefined): void {
    this.total++;
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = value;
  }

  merge(other: NumberCollector): void {
    this.total += other.total - other.n;
    for (let i = 0; i < other.n; i++) this.add(other.values[i]!);
  }

  result(): NumericPortrait {
    const n = this.n;
    const base = { total: this.total, count: n, missing: this.total - n };
    if (n === 0) return { ...base, min: null, max: null, mean: null, q1: null, median: null, q3: null };
    const sorted = this.values.slice(0, n).sort();
    // Neumaier's compensated sum keeps the mean exact to the last bits on long inputs.
    let sum = 0;
    let carry = 0;
    for (let i = 0; i < n; i++) {
      const v = sorted[i]!;
      const t = sum + v;
      carry += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
      sum = t;
    }
    const at = (p: number): number => sorted[Math.min(n - 1, Math.floor(p * n))]!;
    return {
      ...base,
      min: sorted[0]!,
      max: sorted[n - 1]!,
      mean: (sum + carry) / n,
      q1: at(0.25),
      median: at(0.5),
      q3: at(0.75),
    };
  }
}

/** Distribution of an enum-like property over members' values: top N and the rest. */
export function enumPortrait(values: Iterable<PropValue | undefined>, top = 10): EnumPortrait {
  const counter = new EnumCounter();
  for (const v of values) counter.add(v);
  return counter.result(top);
}

/** min, max, mean and exact quartiles of the numeric values among members' values. */
export function numericPortrait(values: Iterable<PropValue | undefined>): NumericPortrait {
  const collector = new NumberCollector();
  for (const v of values) collector.add(v);
  return collector.result();
}
