import { describe, expect, it } from 'vitest';
import { exactQuantiles } from '../../src/query/quantile.js';

/** quantileExact by definition: the element at floor(level * n) of the sorted values. */
function bySort(values: Float64Array, level: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(values.length - 1, Math.floor(level * values.length))]!;
}

describe('exactQuantiles', () => {
  it('equals the sorted definition for any levels, sizes and runs of equal values', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const levels = [0.9, 0.5, 0, 1, 0.25, 0.5];
    for (const n of [0, 1, 2, 3, 10, 101, 1000, 20_000]) {
      for (const spread of [1, 5, 1000, 1e9]) {
        const values = Float64Array.from({ length: n }, () => Math.floor(rand() * spread));
        const expected = levels.map((l) => bySort(values, l));
        expect(exactQuantiles(Float64Array.from(values), levels)).toEqual(expected);
      }
    }
  });

  it('handles sorted and reversed input', () => {
    const up = Float64Array.from({ length: 5000 }, (_, i) => i);
    expect(exactQuantiles(Float64Array.from(up), [0.5, 0.9])).toEqual([2500, 4500]);
    expect(exactQuantiles(Float64Array.from(up).reverse(), [0.5, 0.9])).toEqual([2500, 4500]);
  });
});
