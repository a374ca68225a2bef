import { fnv1a } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { DedupTable, eventIdHash, hashEventId, projectSeeds } from '../../src/index/dedup-table.js';

describe('event-id hashes and the dedup table', () => {
  it('hash an id as fnv1a under both project seeds, the values snapshots and logs already hold', () => {
    const seeds = projectSeeds('shop');
    const out = new Uint32Array(2);
    for (const id of ['', 'e-1', '0000002a-4e97-4e97-84e9-000000000000', '买 ✓ é', 'x'.repeat(300)]) {
      hashEventId(seeds, id, out, 0);
      const hi = fnv1a(id, seeds[0]);
      const lo = fnv1a(id, seeds[1]);
      expect([out[0], out[1]]).toEqual([hi, hi === 0 && lo === 0 ? 1 : lo]);
      expect(eventIdHash('shop', id)).toEqual([out[0], out[1]]);
    }
  });

  it('admits each id once, across growth', () => {
    const table = new DedupTable();
    const ids = Array.from({ length: 50_000 }, (_, i) => eventIdHash('shop', `e-${i}`));
    expect(ids.every(([hi, lo]) => table.add(hi, lo))).toBe(true);
    expect(ids.some(([hi, lo]) => table.add(hi, lo))).toBe(false);
  });
});
