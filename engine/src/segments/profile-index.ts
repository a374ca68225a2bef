import type { Properties, PropValue } from '@weft/core';
import type { PresentPropCondition } from '@weft/segments';
import { i32 } from '../index/growable.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { ValueTable } from '../index/value-table.js';
import { BitSlicedIndex } from './bit-sliced-index.js';
import { majorityType } from './event-catalog.js';

const ABSENT = 0;

/**
 * Bitmaps of one profile property: per string value, per boolean, null, and a bit-sliced
 * index of the numbers. `held` remembers each user's indexed value (an interned id + 1, 0 when
 * absent) so a change can take the old value out.
 */
class PropertyBitmaps {
  readonly present = new RoaringBitmap32();
  readonly strings = new Map<string, RoaringBitmap32>();
  readonly booleans = [new RoaringBitmap32(), new RoaringBitmap32()] as const;
  readonly nulls = new RoaringBitmap32();
  readonly numbers = new BitSlicedIndex();
  readonly held = i32(1024);

  bitmapOf(value: string | boolean | null): RoaringBitmap32 | undefined {
    if (value === null) return this.nulls;
    if (typeof value === 'boolean') return this.booleans[value ? 1 : 0];
    return this.strings.get(value);
  }

  equal(value: PropValue): RoaringBitmap32 | undefined {
    return typeof value === 'number' ? this.numbers.eq(value) : this.bitmapOf(value);
  }
}

const EMPTY = new RoaringBitmap32();

/**
 * Profile properties of a project's users as bitmaps, kept current as profiles change, so
 * profile conditions of segments are bitmap operations: equality and `in` by value bitmaps,
 * numeric comparisons by a bit-sliced index, `contains` over the distinct strings only.
 */
export class ProfileIndex {
  private readonly props = new Map<string, PropertyBitmaps>();
  private readonly values = new ValueTable();

  /** Re-indexes one user's profile (a property never disappears from a profile, except by `clear`). */
  update(user: number, profile: Properties | undefined): void {
    if (!profile) return;
    for (const key in profile) this.set(user, key, profile[key] as PropValue);
  }

  /** Takes a user out of every property (an identity merge folded it into another). */
  clear(user: number): void {
    for (const bitmaps of this.props.values()) this.unset(bitmaps, user);
  }

  private set(user: number, key: string, value: PropValue): void {
    let bitmaps = this.props.get(key);
    if (!bitmaps) {
      bitmaps = new PropertyBitmaps();
      this.props.set(key, bitmaps);
    }
    const id = this.values.id(value) + 1;
    const held = bitmaps.held;
    while (held.length <= user) held.push(ABSENT);
    if (held.data[user] === id) return;
    this.unset(bitmaps, user);
    held.data[user] = id;
    bitmaps.present.add(user);
    if (typeof value === 'number') bitmaps.numbers.set(user, value);
    else if (typeof value === 'string') {
      let set = bitmaps.strings.get(value);
      if (!set) {
        set = new RoaringBitmap32();
        bitmaps.strings.set(value, set);
      }
      set.add(user);
    } else bitmaps.bitmapOf(value)!.add(user);
  }

  private unset(bitmaps: PropertyBitmaps, user: number): void {
    const id = user < bitmaps.held.length ? bitmaps.held.data[user]! : ABSENT;
    if (id === ABSENT) return;
    bitmaps.held.data[user] = ABSENT;
    bitmaps.present.remove(user);
    const old = this.values.get(id - 1);
    if (typeof old === 'number') bitmaps.numbers.delete(user);
    else {
      const set = bitmaps.bitmapOf(old);
      set?.remove(user);
      if (typeof old === 'string' && set?.isEmpty) bitmaps.strings.delete(old);
    }
  }

  /** Users whose property satisfies the condition. The result may be an indexed bitmap: do not change it. */
  matching(cond: PresentPropCondition): RoaringBitmap32 {
    const bitmaps = this.props.get(cond.prop);
    if (!bitmaps) return EMPTY;
    switch (cond.op) {
      case 'set':
        return bitmaps.present;
      case 'eq':
        return bitmaps.equal(cond.value) ?? EMPTY;
      case 'in':
        return RoaringBitmap32.orMany(
          cond.value.map((v) => bitmaps.equal(v)).filter((b): b is RoaringBitmap32 => b !== undefined),
        );
      case 'gt':
        return bitmaps.numbers.gt(cond.value);
      case 'gte':
        return bitmaps.numbers.gte(cond.value);
      case 'lt':
        return bitmaps.numbers.lt(cond.value);
      case 'lte':
        return bitmaps.numbers.lte(cond.value);
      case 'between':
        return bitmaps.numbers.between(cond.value[0], cond.value[1]);
      case 'contains': {
        const parts: RoaringBitmap32[] = [];
        for (const [text, set] of bitmaps.strings) if (text.includes(cond.value)) parts.push(set);
        return RoaringBitmap32.orMany(parts);
      }
    }
  }

  /** Property names with the type most of their values have (for validating definitions). */
  catalog(): Array<[string, 'string' | 'number' | 'boolean']> {
    const out: Array<[string, 'string' | 'number' | 'boolean']> = [];
    for (const [name, b] of this.props) {
      const numbers = b.numbers.present.size;
      const booleans = b.booleans[0].size + b.booleans[1].size;
      const strings = b.present.size - numbers - booleans - b.nulls.size;
      out.push([name, majorityType(strings, numbers, booleans)]);
    }
    return out;
  }

  /** Whether most users with the property hold a number (a portrait then summarizes numbers). */
  isNumeric(prop: string): boolean {
    const b = this.props.get(prop);
    return b !== undefined && b.numbers.present.size * 2 > b.present.size;
  }
}
