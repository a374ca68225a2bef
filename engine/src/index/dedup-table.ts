import { fnv1a } from '@weft/core';

const SEED_HI = 0x811c9dc5;
const SEED_LO = 0x01000193;

/** The two per-project seeds of eventIdHash: producers hashing many events compute them once. */
export function projectSeeds(project: string): [number, number] {
  return [fnv1a(project, SEED_HI), fnv1a(project, SEED_LO) ^ 0x5bd1e995];
}

/** Writes the 64-bit id of an event_id, as two 32-bit halves, at out[at], out[at + 1]. */
export function hashEventId(
  seeds: readonly [number, number],
  eventId: string,
  out: Uint32Array,
  at: number,
): void {
  // fnv1a under both seeds, in one pass over the id.
  let hi = seeds[0] >>> 0;
  let lo = seeds[1] >>> 0;
  for (let i = 0; i < eventId.length; i++) {
    const c = eventId.charCodeAt(i);
    hi = Math.imul(hi ^ c, 0x01000193);
    lo = Math.imul(lo ^ c, 0x01000193);
  }
  hi >>>= 0;
  lo >>>= 0;
  out[at] = hi;
  // (0, 0) is reserved for empty slots.
  out[at + 1] = hi === 0 && lo === 0 ? 1 : lo;
}

/** 64-bit id of an event_id as two 32-bit halves; (0, 0) is reserved for empty slots. */
export function eventIdHash(project: string, eventId: string): [number, number] {
  const out = new Uint32Array(2);
  hashEventId(projectSeeds(project), eventId, out, 0);
  return [out[0]!, out[1]!];
}

/**
 * Open-addressing set of 64-bit event-id hashes: every event the shard ever applied, so a
 * retried batch or a replayed record counts once. 8 bytes a slot, at most 70% full.
 */
export class DedupTable {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 1 << 16) {
    let cap = 1;
    while (cap < capacity) cap <<= 1;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held, for memory reports. */
  bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  /** Adds the hash; false when it was already present. */
  add(hi: number, lo: number): boolean {
    if (this.count * 10 >= this.hi.length * 7) this.rehash();
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const h = this.hi[slot]!;
      const l = this.lo[slot]!;
      if (h === 0 && l === 0) {
        this.hi[slot] = hi;
        this.lo[slot] = lo;
        this.count++;
        return true;
      }
      if (h === hi && l === lo) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  private rehash(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.mask = this.hi.length - 1;
    this.count = 0;
    for (let i = 0; i < oldHi.length; i++) {
      if (oldHi[i] !== 0 || oldLo[i] !== 0) this.add(oldHi[i]!, oldLo[i]!);
    }
  }
}
