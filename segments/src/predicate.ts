import type { PropValue } from '@weft/core';
import type { PropCondition } from './definition.js';

/**
 * Whether a property value satisfies a condition; `undefined` is an absent property. The one
 * definition of the operators for in-memory evaluation, with the same meaning as the SQL of
 * sql.ts and the engine's event filters: comparisons are type-strict (`eq 5` does not match
 * "5"), numeric operators match numbers only, `contains` strings only, and only `neq` and
 * `notset` hold for an absent property.
 */
export function propMatches(cond: PropCondition, value: PropValue | undefined): boolean {
  if (value === undefined) return cond.op === 'neq' || cond.op === 'notset';
  switch (cond.op) {
    case 'eq':
      return value === cond.value;
    case 'neq':
      return value !== cond.value;
    case 'in':
      return cond.value.includes(value);
    case 'gt':
      return typeof value === 'number' && value > cond.value;
    case 'gte':
      return typeof value === 'number' && value >= cond.value;
    case 'lt':
      return typeof value === 'number' && value < cond.value;
    case 'lte':
      return typeof value === 'number' && value <= cond.value;
    case 'between':
      return typeof value === 'number' && value >= cond.value[0] && value <= cond.value[1];
    case 'contains':
      return typeof value === 'string' && value.includes(cond.value);
    case 'set':
      return true;
    case 'notset':
      return false;
  }
}

/** Whether properties satisfy every condition of a `where` list. */
export function whereMatches(
  where: readonly PropCondition[],
  get: (prop: string) => PropValue | undefined,
): boolean {
  for (const cond of where) if (!propMatches(cond, get(cond.prop))) return false;
  return true;
}
