import { describe, expect, it } from 'vitest';
import { EnumCounter, enumPortrait, NumberCollector, numericPortrait } from '../src/portrait.js';
import { rng } from './helpers/random.js';

describe('enumPortrait', () => {
  it('keeps the top N, folds the rest into other and counts missing values', () => {
    const values = ['pro', 'free', 'pro', 'team', undefined, 'free', 'pro', 'edu', undefined];
    expect(enumPortrait(values, 2)).toEqual({
      total: 9,
      missing: 2,
      distinct: 4,
      top: [
        { value: 'pro', count: 3 },
        { value: 'free', count: 2 },
      ],
      other: 2,
    });
  });

  it('keeps value types apart and breaks ties deterministically', () => {
    const p = enumPortrait([1, '1', true, 'true', null, 2, 'a'], 10);
    expect(p.top.map((t) => t.value)).toEqual([null, true, 1, 2, '1', 'a', 'true']);
    expect(p.other).toBe(0);
    expect(enumPortrait([], 3)).toEqual({ total: 0, missing: 0, distinct: 0, top: [], other: 0 });
  });

  it('merges per-shard counters into the same result', () => {
    const r = rng(1);
    const values = Array.from({ length: 500 }, () => (r() < 0.1 ? undefined : `v${Math.floor(r() * 12)}`));
    const shards = [new EnumCounter(), new EnumCounter(), new EnumCounter()];
    for (const [i, v] of values.entries()) shards[i % 3]!.add(v);
    shards[0]!.merge(shards[1]!);
    shards[0]!.merge(shards[2]!);
    expect(shards[0]!.result(5)).toEqual(enumPortrait(values, 5));
  });
});

describe('numericPortrait', () => {
  it('gives min, max, mean and quartiles by the quantileExact definition', () => {
    // Sorted 1..8: q(p) is element floor(p * 8): q1 = [2] = 3, median = [4] = 5, q3 = [6] = 7.
    expect(numericPortrait([8, 3, 1, 5, 2, 7, 4, 6, undefined, 'x', null, Number.NaN])).toEqual({
      total: 12,
      count: 8,
      missing: 4,
      min: 1,
      max: 8,
      mean: 4.5,
      q1: 3,
      median: 5,
      q3: 7,
    });
    expect(numericPortrait([42])).toMatchObject({ min: 42, max: 42, mean: 42, q1: 42, median: 42, q3: 42 });
    expect(numericPortrait([undefined])).toEqual({
      total: 1,
      count: 0,
      missing: 1,
      min: null,
      max: null,
      mean: null,
      q1: null,
      median: null,
      q3: null,
    });
  });

  it('sorts negatives numerically and keeps the mean exact on long inputs', () => {
    expect(numericPortrait([-10, 2, -3, 100, 0])).toMatchObject({
      min: -10,
      max: 100,
      q1: -3,
      median: 0,
      q3: 2,
    });
    // A plain running sum loses the 1s next to 1e16 and would give 0.
    const many = Array.from({ length: 30_000 }, (_, i) => [1e16, 1, -1e16][i % 3]!);
    expect(numericPortrait(many).mean).toBe(1 / 3);
  });

  it('merges per-shard collectors into the same result, growing past its first buffer', () => {
    const r = rng(9);
    const values = Array.from({ length: 1000 }, () => (r() < 0.05 ? 'n/a' : Math.round(r() * 1000) / 10));
    const a = new NumberCollector();
    const b = new NumberCollector();
    for (const [i, v] of values.entries()) (i < 300 ? a : b).add(v);
    a.merge(b);
    expect(a.result()).toEqual(numericPortrait(values));
  });
});
