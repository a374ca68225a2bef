import { DAY_MS } from '@weft/core';
import type { DaySlot, ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { compileWhere, type RowPredicate, type WhereClause } from './where.js';

/** An event with optional property filters: a funnel step, a retention event, a series. */
export interface EventSpec {
  event: string;
  where?: WhereClause[];
}

/** An EventSpec resolved against one index: the event's value id and a row filter. */
export interface CompiledSpec {
  /** Value id of the event name, -1 when the index never saw it. */
  ev: number;
  where: RowPredicate | null;
  days: Map<number, DaySlot> | undefined;
}

export function compileSpec(index: ProjectIndex, spec: EventSpec): CompiledSpec {
  const ev = index.values.find(spec.event);
  return { ev, where: compileWhere(index, spec.where), days: ev < 0 ? undefined : index.eventDays.get(ev) };
}

/**
 * Users with at least one event of the spec's event name on a UTC day touching [from, to):
 * a superset of the users with a matching event in the range, from day bitmaps alone.
 */
export function candidateUsers(spec: CompiledSpec, from: number, to: number): RoaringBitmap32 {
  const out = new RoaringBitmap32();
  if (!spec.days) return out;
  const first = Math.floor(from / DAY_MS);
  const last = Math.floor((to - 1) / DAY_MS);
  const parts: RoaringBitmap32[] = [];
  for (const [day, slot] of spec.days) if (day >= first && day <= last) parts.push(slot.users);
  return parts.length === 0 ? out : RoaringBitmap32.orMany(parts);
}

/**
 * Calls `visit` for every row of the spec inside [from, to) that passes its filters, by
 * scanning only the (event, day) slots that touch the range.
 */
export function forEachMatchingRow(
  index: ProjectIndex,
  spec: CompiledSpec,
  from: number,
  to: number,
  visit: (row: number) => void,
): void {
  if (!spec.days) return;
  const first = Math.floor(from / DAY_MS);
  const last = Math.floor((to - 1) / DAY_MS);
  const times = index.time.data;
  const where = spec.where;
  for (const [day, slot] of spec.days) {
    if (day < first || day > last) continue;
    const rows = slot.rows.data;
    const n = slot.rows.length;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const t = times[row]!;
      if (t < from || t >= to) continue;
      if (where !== null && !where(row)) continue;
      visit(row);
    }
  }
}
