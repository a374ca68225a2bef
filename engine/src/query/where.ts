import type { PropValue } from '@weft/core';
import type { ProjectIndex } from '../index/project-index.js';

export type WhereOp =
  | 'eq'
  | 'neq'
  | 'in'
  | 'contains'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'between'
  | 'set'
  | 'notset';

export interface WhereClause {
  prop: string;
  op?: WhereOp;
  value?: PropValue | PropValue[];
}

export const WHERE_OPS: readonly WhereOp[] = [
  'eq',
  'neq',
  'in',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'set',
  'notset',
];

/** Whether a stored value satisfies the clause. Absent properties are handled by the caller. */
function valueTest(clause: WhereClause): (v: PropValue) => boolean {
  const op = clause.op ?? 'eq';
  const value = clause.value;
  switch (op) {
    case 'eq':
      return (v) => v === value;
    case 'neq':
      return (v) => v !== value;
    case 'in': {
      const set = new Set(Array.isArray(value) ? value : [value]);
      return (v) => set.has(v);
    }
    case 'contains': {
      const needle = String(value);
      return (v) => typeof v === 'string' && v.includes(needle);
    }
    case 'gt':
      return (v) => typeof v === 'number' && v > (value as number);
    case 'gte':
      return (v) => typeof v === 'number' && v >= (value as number);
    case 'lt':
      return (v) => typeof v === 'number' && v < (value as number);
    case 'lte':
      return (v) => typeof v === 'number' && v <= (value as number);
    case 'between': {
      const [lo, hi] = value as [number, number];
      return (v) => typeof v === 'number' && v >= lo && v <= hi;
    }
    case 'set':
      return () => true;
    case 'notset':
      return () => false;
  }
}

/** neq and notset hold for rows without the property; every other operator needs it. */
function matchesAbsent(op: WhereOp): boolean {
  return op === 'neq' || op === 'notset';
}

export type RowPredicate = (row: number) => boolean;

/**
 * Compiles filters to a row predicate over one project's rows. Each clause caches its
 * verdict per interned value id, so a scan tests each distinct value once.
 */
export function compileWhere(
  index: ProjectIndex,
  where: readonly WhereClause[] | undefined,
): RowPredicate | null {
  if (!where || where.length === 0) return null;
  const tests = where.map((clause) => {
    const keyId = index.values.find(clause.prop);
    const op = clause.op ?? 'eq';
    const absent = matchesAbsent(op);
    if (keyId < 0) return () => absent;
    const test = valueTest(clause);
    const verdicts = new Map<number, boolean>();
    const column = index.propColumn(keyId);
    return (row: number): boolean => {
      const vid = column[row]!;
      if (vid < 0) return absent;
      let ok = verdicts.get(vid);
      if (ok === undefined) {
        ok = test(index.values.get(vid));
        verdicts.set(vid, ok);
      }
      return ok;
    };
  });
  if (tests.length === 1) return tests[0]!;
  return (row) => {
    for (const t of tests) if (!t(row)) return false;
    return true;
  };
}
