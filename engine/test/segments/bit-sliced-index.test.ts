import { prng } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { BitSlicedIndex } from '../../src/segments/bit-sliced-index.js';

describe('BitSlicedIndex', () => {
  const r = prng(3);
  const specials = [0, -0, 1, -1, 0.5, -0.5, 1e-300, -1e-300, 1e300, -1e300, 42, 42, 7.25, -7.25];
  const values = [...specials, ...Array.from({ length: 400 }, () => Math.round((r() - 0.5) * 2000) / 8)];
  const bsi = new BitSlicedIndex();
  for (const [u, v] of values.entries()) bsi.set(u, v);
  // Overwrite some users so old bits must be cleared.
  for (let u = 20; u < 60; u++) {
    values[u] = -values[u]! + 0.125;
    bsi.set(u, values[u]!);
  }
  bsi.delete(70);
  const users = (test: (v: number) => boolean) => values.flatMap((v, u) => (u !== 70 && test(v) ? [u] : []));
  const constants = [0, -0, 42, -7.25, 7.25, 1e300, -1e300, 0.1, 1000, -1000, 3.125];

  it('answers every comparison exactly, at the edges too', () => {
    for (const c of constants) {
      expect(bsi.gt(c).toArray(), `gt ${c}`).toEqual(users((v) => v > c));
      expect(bsi.gte(c).toArray(), `gte ${c}`).toEqual(users((v) => v >= c));
      expect(bsi.lt(c).toArray(), `lt ${c}`).toEqual(users((v) => v < c));
      expect(bsi.lte(c).toArray(), `lte ${c}`).toEqual(users((v) => v <= c));
      expect(bsi.eq(c).toArray(), `eq ${c}`).toEqual(users((v) => v === c));
    }
    expect(bsi.between(-7.25, 42).toArray()).toEqual(users((v) => v >= -7.25 && v <= 42));
  });
});
