import type { PropValue } from '@weft/core';

/**
 * Interns property values (and keys, event names, session ids) to dense ids so rows store
 * numbers. Ids 0..2 are null, false, true; strings and numbers get ids as first seen.
 * Append-only: ids are never reused, which is what lets snapshots be written as deltas.
 */
export class ValueTable {
  static readonly NULL = 0;
  static readonly FALSE = 1;
  static readonly TRUE = 2;

  readonly values: PropValue[] = [null, false, true];
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();

  get size(): number {
    return this.values.length;
  }

  id(value: PropValue): number {
    if (typeof value === 'string') return this.stringId(value);
    if (typeof value === 'number') {
      let id = this.numbers.get(value);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(value);
        this.numbers.set(value, id);
      }
      return id;
    }
    if (value === null) return ValueTable.NULL;
    return value ? ValueTable.TRUE : ValueTable.FALSE;
  }

  stringId(value: string): number {
    let id = this.strings.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.strings.set(value, id);
    }
    return id;
  }

  /** Id of a value if it was ever seen, else -1 (a filter on it matches nothing). */
  find(value: PropValue): number {
    if (typeof value === 'string') return this.strings.get(value) ?? -1;
    if (typeof value === 'number') return this.numbers.get(value) ?? -1;
    if (value === null) return ValueTable.NULL;
    return value ? ValueTable.TRUE : ValueTable.FALSE;
  }

  get(id: number): PropValue {
    return this.values[id] as PropValue;
  }
}
