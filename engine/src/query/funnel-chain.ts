import type { PropValue } from '@weft/core';
import { f64, i32, u32 } from '../index/growable.js';
import type { ProjectIndex } from '../index/project-index.js';
import { TimelineBuffer } from '../index/timelines.js';
import { ValueTable } from '../index/value-table.js';
import type { CompiledSpec } from './step.js';

const LUT_MASK = 63;

/** The best chain of one user: its level and the times and rows of its steps. */
export interface Chain {
  level: number;
  /** Time of step k (0-based) of the chain, for k < level. */
  times: Float64Array;
  /** Row of step k. */
  rows: Uint32Array;
}

/**
 * Finds a user's funnel chain (DESIGN §5, ClickHouse windowFunnel semantics): the most steps
 * s1..sk matched by distinct events with t1 <= ... <= tk <= t1 + window inside [from, to).
 * Events are ordered by time; equal times by their lowest then highest matched step (so a
 * tie never blocks a conversion and one event is never two steps), then by the set of steps
 * they match (as a mask), then by the breakdown property's value (see compareValues) — all
 * things the SQL sees too, so both pick the same chain; events still tied cannot change the
 * answer. Among starts reaching the best level, the earliest wins; from a start each next
 * step takes the earliest event after the previous one, which is optimal for a fixed start.
 * Reuses its buffers across users; one instance per query.
 */
export class FunnelChainFinder {
  private readonly timeline = new TimelineBuffer();
  private readonly mRow = u32(256);
  private readonly mTime = f64(256);
  private readonly mMask = u32(256);
  private readonly next = i32(1024);
  /** Open-addressed table: event value id -> steps it matches outright / steps whose filters must run. */
  private readonly lutEvent = new Int32Array(LUT_MASK + 1).fill(-1);
  private readonly lutSteps = new Uint32Array(LUT_MASK + 1);
  private readonly lutFiltered = new Uint32Array(LUT_MASK + 1);
  readonly chain: Chain;

  constructor(
    private readonly index: ProjectIndex,
    private readonly steps: readonly CompiledSpec[],
    private readonly window: number,
    private readonly from: number,
    private readonly to: number,
    /** Value id of the breakdown property's key, or -1 without a breakdown. */
    private readonly breakdownKey = -1,
  ) {
    this.chain = { level: 0, times: new Float64Array(steps.length), rows: new Uint32Array(steps.length) };
    steps.forEach((s, k) => {
      if (s.ev < 0) return;
      let h = s.ev & LUT_MASK;
      while (this.lutEvent[h] !== -1 && this.lutEvent[h] !== s.ev) h = (h + 1) & LUT_MASK;
      this.lutEvent[h] = s.ev;
      if (s.where === null) this.lutSteps[h]! |= 1 << k;
      else this.lutFiltered[h]! |= 1 << k;
    });
  }

  /** Evaluates `user`; the result is in `this.chain` until the next call. */
  find(user: number): Chain {
    const m = this.collect(user);
    const chain = this.chain;
    chain.level = 0;
    if (m === 0) return chain;
    const steps = this.steps.length;
    const next = this.buildNext(m);
    const times = this.mTime.data;
    const masks = this.mMask.data;
    let bestStart = -1;
    for (let i = 0; i < m; i++) {
      if ((masks[i]! & 1) === 0) continue;
      const limit = times[i]! + this.window;
      let p = i;
      let level = 1;
      while (level < steps) {
        const j = next[level * (m + 1) + p + 1]!;
        if (j < 0 || times[j]! > limit) break;
        p = j;
        level++;
      }
      if (level > chain.level) {
        chain.level = level;
        bestStart = i;
        if (level === steps) break;
      }
    }
    if (bestStart < 0) return chain;
    const rows = this.mRow.data;
    let p = bestStart;
    chain.times[0] = times[p]!;
    chain.rows[0] = rows[p]!;
    for (let k = 1; k < chain.level; k++) {
      p = next[k * (m + 1) + p + 1]!;
      chain.times[k] = times[p]!;
      chain.rows[k] = rows[p]!;
    }
    return chain;
  }

  /** The user's rows in range that match any step, in funnel order, with their step masks. */
  private collect(user: number): number {
    const tl = this.timeline;
    this.index.timelines.readColumns(user, tl);
    const { rows, events: evCol, times: timeCol, to } = tl;
    const { steps, lutEvent, lutSteps, lutFiltered } = this;
    const n = to - tl.from;
    // Room for every event up front, so the loop writes without bounds checks or growth.
    if (this.mRow.data.length < n) {
      this.mRow.data = new Uint32Array(n * 2);
      this.mTime.data = new Float64Array(n * 2);
      this.mMask.data = new Uint32Array(n * 2);
    }
    const mRow = this.mRow.data;
    const mTime = this.mTime.data;
    const mMask = this.mMask.data;
    let m = 0;
    let ties = false;
    let prevTime = Number.NaN;
    // Skip the events outside the range at the ends; the timeline is sorted by time.
    let i0 = tl.from;
    let i1 = to;
    while (i0 < i1 && timeCol[i0]! < this.from) i0++;
    while (i1 > i0 && timeCol[i1 - 1]! >= this.to) i1--;
    for (let i = i0; i < i1; i++) {
      const t = timeCol[i]!;
      const ev = evCol[i]!;
      let h = ev & LUT_MASK;
      while (lutEvent[h] !== ev && lutEvent[h] !== -1) h = (h + 1) & LUT_MASK;
      if (lutEvent[h] !== ev) continue;
      const row = rows[i]!;
      let mask = lutSteps[h]!;
      for (let filtered = lutFiltered[h]!; filtered !== 0; filtered &= filtered - 1) {
        const k = 31 - Math.clz32(filtered & -filtered);
        if (steps[k]!.where!(row)) mask |= 1 << k;
      }
      if (mask === 0) continue;
      if (t === prevTime) ties = true;
      prevTime = t;
      mRow[m] = row;
      mTime[m] = t;
      mMask[m] = mask;
      m++;
    }
    this.mRow.length = m;
    this.mTime.length = m;
    this.mMask.length = m;
    if (ties) this.orderTies();
    return m;
  }

  /** Within runs of equal times, orders events by (lowest step, highest step, mask, breakdown value, row). */
  private orderTies(): void {
    const m = this.mRow.length;
    const times = this.mTime.data;
    const rows = this.mRow.data;
    const masks = this.mMask.data;
    const byValue = (a: number, b: number): number =>
      this.breakdownKey < 0 ? 0 : compareValues(this.breakdownValue(a), this.breakdownValue(b));
    let i = 0;
    while (i < m) {
      let j = i + 1;
      while (j < m && times[j] === times[i]) j++;
      if (j - i > 1) {
        const run: Array<[number, number]> = [];
        for (let k = i; k < j; k++) run.push([rows[k]!, masks[k]!]);
        run.sort((a, b) => tieKey(a[1]) - tieKey(b[1]) || a[1] - b[1] || byValue(a[0], b[0]) || a[0] - b[0]);
        for (let k = i; k < j; k++) {
          rows[k] = run[k - i]![0];
          masks[k] = run[k - i]![1];
        }
      }
      i = j;
    }
  }

  /** The breakdown property of `row`; absent reads as null, as in SQL. */
  private breakdownValue(row: number): PropValue {
    const vid = this.index.propValueId(row, this.breakdownKey);
    return vid <= ValueTable.NULL ? null : this.index.values.get(vid);
  }

  /** next[k * (m + 1) + i] = first position >= i whose event matches step k, or -1. */
  private buildNext(m: number): Int32Array {
    const steps = this.steps.length;
    const size = steps * (m + 1);
    const next = this.next;
    if (next.data.length < size) next.data = new Int32Array(Math.max(size, next.data.length * 2));
    const out = next.data;
    const masks = this.mMask.data;
    for (let k = 1; k < steps; k++) {
      const base = k * (m + 1);
      const bit = 1 << k;
      out[base + m] = -1;
      for (let i = m - 1; i >= 0; i--) out[base + i] = (masks[i]! & bit) !== 0 ? i : out[base + i + 1]!;
    }
    return out;
  }
}

/** Sort key of a step mask among equal times: lowest matched step, then highest. */
function tieKey(mask: number): number {
  return (31 - Math.clz32(mask & -mask)) * 64 + (31 - Math.clz32(mask));
}

/** Rank of a value's type, as SQL's type marker: string, number, boolean, null. */
function typeRank(v: PropValue): number {
  return typeof v === 'string' ? 0 : typeof v === 'number' ? 1 : typeof v === 'boolean' ? 2 : 3;
}

/**
 * The order SQL gives breakdown values (type marker, number, text): strings before numbers
 * before booleans before null; strings by code point (ClickHouse compares UTF-8 bytes),
 * numbers numerically, false before true.
 */
function compareValues(a: PropValue, b: PropValue): number {
  const rank = typeRank(a) - typeRank(b);
  if (rank !== 0) return rank;
  if (typeof a === 'string') return compareCodePoints(a, b as string);
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'boolean') return Number(a) - Number(b);
  return 0;
}

/** Strings in code point order, which UTF-16 units break for astral characters against U+E000–U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    if (xs !== (y >= 0xd800 && y <= 0xdfff)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
