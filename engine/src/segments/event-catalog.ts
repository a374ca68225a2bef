import type { PropType } from '@weft/segments';
import type { ProjectIndex } from '../index/project-index.js';

/** The type most values have; ties go to number, then string (nothing but nulls reads as string). */
export function majorityType(strings: number, numbers: number, booleans: number): PropType {
  if (numbers + strings + booleans === 0) return 'string';
  if (numbers >= strings && numbers >= booleans) return 'number';
  return strings >= booleans ? 'string' : 'boolean';
}

/** Counts of string, number and boolean values of one property of one event. */
type TypeCounts = [number, number, number];

/**
 * The properties each event of a project carries, with their majority type, so `did.where`
 * filters are checked against the event they filter. Rows are read when asked, from where the
 * last call stopped (rows are append-only), which keeps the work off the ingest path.
 */
export class EventCatalog {
  /** Event id -> property key id -> value type counts. */
  private readonly counts = new Map<number, Map<number, TypeCounts>>();
  private scanned = 0;

  constructor(private readonly index: ProjectIndex) {}

  /** Per event name, its properties and their types. */
  read(): Array<[string, Array<[string, PropType]>]> {
    this.scan();
    const values = this.index.values;
    return [...this.counts].map(([ev, keys]) => [
      String(values.get(ev)),
      [...keys].map(([key, [s, n, b]]) => [String(values.get(key)), majorityType(s, n, b)]),
    ]);
  }

  private scan(): void {
    const index = this.index;
    const rows = index.rowCount;
    const events = index.event.data;
    const start = index.propStart.data;
    const pool = index.propPool.data;
    const values = index.values;
    for (let r = this.scanned; r < rows; r++) {
      let keys = this.counts.get(events[r]!);
      if (!keys) {
        keys = new Map();
        this.counts.set(events[r]!, keys);
      }
      const end = start[r + 1]!;
      for (let i = start[r]!; i < end; i += 2) {
        let c = keys.get(pool[i]!);
        if (!c) {
          c = [0, 0, 0];
          keys.set(pool[i]!, c);
        }
        const v = values.get(pool[i + 1]!);
        if (typeof v === 'string') c[0]++;
        else if (typeof v === 'number') c[1]++;
        else if (typeof v === 'boolean') c[2]++;
      }
    }
    this.scanned = rows;
  }
}
