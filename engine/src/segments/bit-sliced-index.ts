import { RoaringBitmap32 } from '../index/roaring.js';

const SLICES = 64;
const f64 = new Float64Array(1);
const halves = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/**
 * The order-preserving 64-bit key of a finite number, as [high, low] 32-bit halves: IEEE 754
 * bits with the sign bit flipped for positives and every bit flipped for negatives, so
 * unsigned comparison of keys is numeric comparison. -0 is read as 0.
 */
function sortableKey(x: number, out: Uint32Array): void {
  f64[0] = x === 0 ? 0 : x;
  const hi = halves[HI]!;
  const lo = halves[LO]!;
  if (hi & 0x80000000) {
    out[0] = ~hi >>> 0;
    out[1] = ~lo >>> 0;
  } else {
    out[0] = (hi | 0x80000000) >>> 0;
    out[1] = lo;
  }
}

function keyBit(key: Uint32Array, slice: number): boolean {
  return slice >= 32 ? ((key[0]! >>> (slice - 32)) & 1) === 1 : ((key[1]! >>> slice) & 1) === 1;
}

/**
 * A bit-sliced index of one numeric property: slice i holds the users whose value's sortable
 * key has bit i set. Any comparison with a constant is 64 steps of bitmap algebra (O'Neil and
 * Quass), exact for every double, whatever the number of distinct values — so range
 * conditions over millions of users never scan values.
 */
export class BitSlicedIndex {
  readonly present = new RoaringBitmap32();
  private readonly slices = Array.from({ length: SLICES }, () => new RoaringBitmap32());
  private readonly key = new Uint32Array(2);

  set(user: number, value: number): void {
    if (this.present.has(user)) this.delete(user);
    sortableKey(value, this.key);
    for (let i = 0; i < SLICES; i++) if (keyBit(this.key, i)) this.slices[i]!.add(user);
    this.present.add(user);
  }

  delete(user: number): void {
    if (!this.present.delete(user)) return;
    for (const slice of this.slices) slice.remove(user);
  }

  /** Users whose value is below `c` and those equal to it. */
  private compare(c: number): { below: RoaringBitmap32; equal: RoaringBitmap32 } {
    const key = new Uint32Array(2);
    sortableKey(c, key);
    const below = new RoaringBitmap32();
    const equal = this.present.clone();
    for (let i = SLICES - 1; i >= 0 && !equal.isEmpty; i--) {
      const slice = this.slices[i]!;
      if (keyBit(key, i)) {
        below.orInPlace(RoaringBitmap32.andNot(equal, slice));
        equal.andInPlace(slice);
      } else equal.andNotInPlace(slice);
    }
    return { below, equal };
  }

  lt(c: number): RoaringBitmap32 {
    return this.compare(c).below;
  }

  lte(c: number): RoaringBitmap32 {
    const { below, equal } = this.compare(c);
    return below.orInPlace(equal);
  }

  gt(c: number): RoaringBitmap32 {
    return RoaringBitmap32.andNot(this.present, this.lte(c));
  }

  gte(c: number): RoaringBitmap32 {
    return RoaringBitmap32.andNot(this.present, this.lt(c));
  }

  eq(c: number): RoaringBitmap32 {
    return this.compare(c).equal;
  }

  /** Inclusive on both ends. */
  between(lo: number, hi: number): RoaringBitmap32 {
    return this.gte(lo).andInPlace(this.lte(hi));
  }
}
