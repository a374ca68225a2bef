import type { PropValue } from '@weft/core';
import { type DidLeaf, propMatches } from '@weft/segments';
import type { ProjectIndex } from '../index/project-index.js';

/**
 * A did leaf resolved against one index: the interned ids of its event and of the properties
 * its `where` names, so testing a row is array reads and one comparison per filter.
 */
export class RowMatcher {
  readonly event: number;
  private readonly keys: Int32Array;

  constructor(
    private readonly index: ProjectIndex,
    private readonly leaf: Pick<DidLeaf, 'event' | 'where'>,
  ) {
    this.event = index.values.find(leaf.event);
    this.keys = Int32Array.from(leaf.where, (w) => index.values.find(w.prop));
  }

  /** Whether every name resolved: a matcher that did can be kept, since interned ids never change. */
  get complete(): boolean {
    return this.event >= 0 && this.keys.every((k) => k >= 0);
  }

  /** Whether the row's properties satisfy every filter (the event is checked by the caller). */
  whereMatches(row: number): boolean {
    const where = this.leaf.where;
    for (let i = 0; i < where.length; i++) {
      const key = this.keys[i]!;
      const id = key < 0 ? -1 : this.index.propValueId(row, key);
      const value: PropValue | undefined = id < 0 ? undefined : this.index.values.get(id);
      if (!propMatches(where[i]!, value)) return false;
    }
    return true;
  }
}
