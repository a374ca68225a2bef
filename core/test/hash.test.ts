import { describe, expect, it } from 'vitest';
import { fnv1a, shardOf } from '../src/hash.js';

describe('hashing', () => {
  it('is the FNV-1a of the reference vectors, so shard placement never changes', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('spreads users evenly over shards and keeps projects apart', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[shardOf('default', `user-${i}`, 4)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(shardOf('p', 'x', 1)).toBe(0);
    const differs = Array.from(
      { length: 100 },
      (_, i) => shardOf('a', `u${i}`, 8) !== shardOf('b', `u${i}`, 8),
    );
    expect(differs.some(Boolean)).toBe(true);
  });
});
