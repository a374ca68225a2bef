import type { PropValue } from '@weft/core';
import { f64, type Growable } from '../index/growable.js';
import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { ValueTable } from '../index/value-table.js';
import { NO_VALUE } from './event-analysis.js';
import { FunnelChainFinder } from './funnel-chain.js';
import { matchingUsers } from './period-users.js';
import { exactQuantiles } from './quantile.js';
import { segmentUsers } from './segment.js';
import { candidateUsers, compileSpec, type EventSpec } from './step.js';

/** A funnel request after the edge resolved times and window (DESIGN §5, §6). */
export interface FunnelQuery {
  steps: EventSpec[];
  /** Milliseconds from the first step's event. */
  window: number;
  from: number;
  to: number;
  /** Property of the chain's first-step event to group by. */
  breakdown?: string;
  /** Restrict to these distinct ids. */
  users?: string[];
}

/** Per breakdown value: users reaching each step, and each converter's ms from the previous step. */
export interface FunnelGroupPartial {
  key: string;
  value: PropValue;
  reached: number[];
  /** gaps[k] for k >= 1: one entry per user reaching step k, in no order (gaps[0] is empty). */
  gaps: Float64Array[];
}

export interface FunnelStepResult {
  event: string;
  users: number;
  conversion_from_prev: number;
  conversion_from_first: number;
  median_ms_from_prev: number | null;
  p90_ms_from_prev: number | null;
}

export interface FunnelResponse {
  steps: FunnelStepResult[];
  breakdowns?: Array<{ breakdown: PropValue; steps: FunnelStepResult[] }>;
}

/**
 * Users reaching step 1 on this shard (within the segment), a chain finder for them, and the
 * breakdown property's key id (-1 without one, or when no event has it).
 */
function converters(
  index: ProjectIndex,
  q: FunnelQuery,
): { first: RoaringBitmap32; finder: FunnelChainFinder; breakdownKey: number } {
  const steps = q.steps.map((s) => compileSpec(index, s));
  const first = matchingUsers(index, steps[0]!, q.from, q.to);
  const segment = segmentUsers(index, q.users);
  if (segment) first.andInPlace(segment);
  const breakdownKey = q.breakdown === undefined ? -1 : index.values.find(q.breakdown);
  const finder = new FunnelChainFinder(index, steps, q.window, q.from, q.to, breakdownKey);
  return { first, finder, breakdownKey };
}

/** One shard's share of a funnel. */
export function funnelPartial(index: ProjectIndex, q: FunnelQuery): FunnelGroupPartial[] {
  const n = q.steps.length;
  interface Group {
    key: string;
    value: PropValue;
    reached: number[];
    gaps: Growable<Float64Array>[];
  }
  const groups = new Map<string, Group>();
  const group = (key: string, value: PropValue): Group => {
    let g = groups.get(key);
    if (!g) {
      g = { key, value, reached: new Array(n).fill(0), gaps: Array.from({ length: n }, () => f64(64)) };
      groups.set(key, g);
    }
    return g;
  };
  const { first, finder, breakdownKey } = converters(index, q);
  // Users who may reach step 2 need their timelines read; the rest stop at step 1 (unless a
  // breakdown needs their first-step event).
  let evaluate = first;
  if (n > 1 && q.breakdown === undefined) {
    evaluate = RoaringBitmap32.and(first, candidateUsers(compileSpec(index, q.steps[1]!), q.from, q.to));
    const onlyFirst = first.size - evaluate.size;
    if (onlyFirst > 0) group(NO_VALUE, null).reached[0]! += onlyFirst;
  }
  const users = evaluate.toUint32Array();
  const all = q.breakdown === undefined ? group(NO_VALUE, null) : null;
  for (let i = 0; i < users.length; i++) {
    const chain = finder.find(users[i]!);
    let g: Group;
    if (all !== null) g = all;
    else {
      const vid = breakdownKey < 0 ? -1 : index.propValueId(chain.rows[0]!, breakdownKey);
      // An absent property and an explicit null are one group, as in SQL.
      const value = vid <= ValueTable.NULL ? null : index.values.get(vid);
      g = group(value === null ? NO_VALUE : JSON.stringify(value), value);
    }
    for (let k = 0; k < chain.level; k++) {
      g.reached[k]!++;
      if (k > 0) g.gaps[k]!.push(chain.times[k]! - chain.times[k - 1]!);
    }
  }
  // Exact-length copies: a view would carry its whole backing buffer to the main thread.
  return [...groups.values()].map(({ key, value, reached, gaps }) => ({
    key,
    value,
    reached,
    gaps: gaps.map((g) => g.data.slice(0, g.length)),
  }));
}

/** The shards' gaps of one step as one array (selection reorders it, so always a copy). */
function concat(parts: readonly Float64Array[]): Float64Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float64Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

function stepResults(q: FunnelQuery, reached: number[], gaps: Float64Array[][]): FunnelStepResult[] {
  return q.steps.map((s, k) => {
    const [median, p90] = k === 0 ? [null, null] : exactQuantiles(concat(gaps[k]!), [0.5, 0.9]);
    const prev = k === 0 ? reached[0]! : reached[k - 1]!;
    return {
      event: s.event,
      users: reached[k]!,
      conversion_from_prev: prev === 0 ? 0 : reached[k]! / prev,
      conversion_from_first: reached[0] === 0 ? 0 : reached[k]! / reached[0]!,
      median_ms_from_prev: median ?? null,
      p90_ms_from_prev: p90 ?? null,
    };
  });
}

/** Adds the shards' partials (users are disjoint across shards) into the response. */
export function mergeFunnel(q: FunnelQuery, partials: readonly FunnelGroupPartial[][]): FunnelResponse {
  const n = q.steps.length;
  const total = {
    reached: new Array<number>(n).fill(0),
    gaps: Array.from({ length: n }, (): Float64Array[] => []),
  };
  const byKey = new Map<string, { value: PropValue; reached: number[]; gaps: Float64Array[][] }>();
  for (const shard of partials) {
    for (const p of shard) {
      let g = byKey.get(p.key);
      if (!g) {
        g = { value: p.value, reached: new Array(n).fill(0), gaps: Array.from({ length: n }, () => []) };
        byKey.set(p.key, g);
      }
      for (let k = 0; k < n; k++) {
        g.reached[k]! += p.reached[k]!;
        total.reached[k]! += p.reached[k]!;
        g.gaps[k]!.push(p.gaps[k]!);
        total.gaps[k]!.push(p.gaps[k]!);
      }
    }
  }
  const out: FunnelResponse = { steps: stepResults(q, total.reached, total.gaps) };
  if (q.breakdown !== undefined) {
    out.breakdowns = [...byKey.entries()]
      .sort((a, b) => b[1].reached[0]! - a[1].reached[0]! || a[0].localeCompare(b[0]))
      .map(([key, g]) => ({
        breakdown: key === NO_VALUE ? null : g.value,
        steps: stepResults(q, g.reached, g.gaps),
      }));
  }
  return out;
}

/** Who converted at step `step` (1-based: reached it) or dropped there (reached the one before, not it). */
export interface FunnelUsersQuery extends FunnelQuery {
  step: number;
  status: 'converted' | 'dropped';
}

/** One shard's users of a funnel step, as canonical distinct ids. */
export function funnelUsersPartial(index: ProjectIndex, q: FunnelUsersQuery): string[] {
  const { first, finder } = converters(index, q);
  const out: string[] = [];
  const users = first.toUint32Array();
  for (let i = 0; i < users.length; i++) {
    const level = finder.find(users[i]!).level;
    if (q.status === 'converted' ? level >= q.step : level === q.step - 1) out.push(index.names[users[i]!]!);
  }
  return out;
}
