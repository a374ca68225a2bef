import { f64, i32, u32 } from '../index/growable.js';
import type { ProjectIndex } from '../index/project-index.js';
import type { CompiledSpec } from './step.js';

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
 * tie never blocks a conversion and one event is never two steps), then by row. Among
 * starts reaching the best level, the earliest wins; from a start each next step takes the
 * earliest event after the previous one, which is optimal for a fixed start. Reuses its
 * buffers across users; one instance per query.
 */
export class FunnelChainFinder {
  private readonly rows = u32(256);
  private readonly mRow = u32(256);
  private readonly mTime = f64(256);
  private readonly mMask = u32(256);
  private readonly next = i32(1024);
  readonly chain: Chain;

  constructor(
    private readonly index: ProjectIndex,
    private readonly steps: readonly CompiledSpec[],
    private readonly window: number,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.chain = { level: 0, times: new Float64Array(steps.length), rows: new Uint32Array(steps.length) };
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
    const index = this.index;
    const n = index.timelines.read(user, this.rows);
    const rows = this.rows.data;
    const evCol = index.event.data;
    const timeCol = index.time.data;
    const steps = this.steps;
    this.mRow.length = 0;
    this.mTime.length = 0;
    this.mMask.length = 0;
    let ties = false;
    let prevTime = Number.NaN;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const t = timeCol[row]!;
      if (t < this.from || t >= this.to) continue;
      const ev = evCol[row]!;
      let mask = 0;
      for (let k = 0; k < steps.length; k++) {
        const s = steps[k]!;
        if (s.ev === ev && (s.where === null || s.where(row))) mask |= 1 << k;
      }
      if (mask === 0) continue;
      if (t === prevTime) ties = true;
      prevTime = t;
      this.mRow.push(row);
      this.mTime.push(t);
      this.mMask.push(mask);
    }
    if (ties) this.orderTies();
    return this.mRow.length;
  }

  /** Within runs of equal times, orders events by (lowest step, highest step, row). */
  private orderTies(): void {
    const m = this.mRow.length;
    const times = this.mTime.data;
    const rows = this.mRow.data;
    const masks = this.mMask.data;
    let i = 0;
    while (i < m) {
      let j = i + 1;
      while (j < m && times[j] === times[i]) j++;
      if (j - i > 1) {
        const run: Array<[number, number]> = [];
        for (let k = i; k < j; k++) run.push([rows[k]!, masks[k]!]);
        run.sort((a, b) => tieKey(a[1]) - tieKey(b[1]) || a[0] - b[0]);
        for (let k = i; k < j; k++) {
          rows[k] = run[k - i]![0];
          masks[k] = run[k - i]![1];
        }
      }
      i = j;
    }
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
