import { fnv1a, invalid } from '@weft/core';

export interface Variant {
  name: string;
  weight: number;
}

/** murmur3's 32-bit finalizer: every input bit flips each output bit with probability ~1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uniform 32-bit bucket for (key, user), the same on every shard and after every restart.
 * FNV-1a alone is not uniform enough: its last step multiplies by 2^24 + 0x193, so ids that
 * differ only in the last character (user_1, user_2, …) land in nearly consecutive top
 * bytes, and a split by h / 2^32 would follow the id order. The murmur3 finalizer avalanches
 * every input bit over the whole word, so for any set of distinct inputs the buckets behave
 * like independent uniform draws. The key is length-prefixed so (key, id) pairs never
 * collide by concatenation ("ab" + "c" vs "a" + "bc"), and different keys (experiments)
 * give independent assignments.
 */
export function abBucket(key: string, distinctId: string): number {
  return fmix32(fnv1a(`${key.length}:${key}:${distinctId}`));
}

/**
 * The sticky variant of a user for an experiment key: variant i is chosen with probability
 * weight_i / sum of weights. Stable as long as the key and the variant list are unchanged.
 * Variants must be valid (parseVariants).
 */
export function assignVariant(key: string, distinctId: string, variants: readonly Variant[]): string {
  let total = 0;
  for (const v of variants) total += v.weight;
  const point = (abBucket(key, distinctId) / 2 ** 32) * total;
  let acc = 0;
  let last = variants[0]!.name;
  for (const v of variants) {
    if (v.weight <= 0) continue;
    acc += v.weight;
    last = v.name;
    if (point < acc) return v.name;
  }
  // Rounding can leave `point` a hair above the last cumulative sum.
  return last;
}

/** Validates an untrusted variant list; problems name `path`, e.g. `checks.hero.ab.variants[1].weight`. */
export function parseVariants(input: unknown, path: string): Variant[] {
  if (!Array.isArray(input) || input.length === 0 || input.length > 100) {
    throw invalid(path, 'expected 1 to 100 variants [{name, weight}]');
  }
  const names = new Set<string>();
  let total = 0;
  const variants = input.map((v: unknown, i): Variant => {
    const { name, weight } = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    if (typeof name !== 'string' || name === '' || name.length > 200) {
      throw invalid(`${path}[${i}].name`, 'expected a non-empty name');
    }
    if (names.has(name)) throw invalid(`${path}[${i}].name`, `duplicate variant "${name}"`);
    names.add(name);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw invalid(`${path}[${i}].weight`, 'expected a number >= 0');
    }
    total += weight;
    return { name, weight };
  });
  if (total <= 0) throw invalid(path, 'at least one weight must be above 0');
  return variants;
}
