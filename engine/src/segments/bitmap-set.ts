import type { UserSet } from '@weft/segments';
import { RoaringBitmap32 } from '../index/roaring.js';

/** A roaring bitmap as the `UserSet` of plan evaluation; operations never change their operands. */
export class BitmapSet implements UserSet<BitmapSet> {
  constructor(readonly bits: RoaringBitmap32) {}

  and(other: BitmapSet): BitmapSet {
    return new BitmapSet(RoaringBitmap32.and(this.bits, other.bits));
  }

  or(other: BitmapSet): BitmapSet {
    return new BitmapSet(RoaringBitmap32.or(this.bits, other.bits));
  }

  andNot(other: BitmapSet): BitmapSet {
    return new BitmapSet(RoaringBitmap32.andNot(this.bits, other.bits));
  }

  get size(): number {
    return this.bits.size;
  }

  has(user: number): boolean {
    return this.bits.has(user);
  }
}
