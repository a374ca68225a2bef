const SLOTS = 64;
const MASK = SLOTS - 1;
const EMPTY = -2;

/**
 * Counts how often each value id occurs in a column, for breakdowns that only count rows:
 * a direct-mapped table of 64 (value id, count) slots, since a breakdown has few hot values.
 * A value that collides with another evicts it to `spill` (its count so far), so the loop
 * is a compare and an increment per row, in a function small enough to stay optimized.
 */
export class ValueTally {
  private readonly vids = new Int32Array(SLOTS).fill(EMPTY);
  private readonly counts = new Float64Array(SLOTS);

  constructor(private readonly spill: (vid: number, count: number) => void) {}

  add(column: Int32Array, length: number): void {
    const vids = this.vids;
    const counts = this.counts;
    for (let i = 0; i < length; i++) {
      const vid = column[i]!;
      const c = vid & MASK;
      if (vids[c] === vid) counts[c]!++;
      else {
        if (vids[c] !== EMPTY) this.spill(vids[c]!, counts[c]!);
        vids[c] = vid;
        counts[c] = 1;
      }
    }
  }

  /** Spills every value still held and empties the table. */
  drain(): void {
    for (let c = 0; c < SLOTS; c++) {
      if (this.vids[c] === EMPTY) continue;
      this.spill(this.vids[c]!, this.counts[c]!);
      this.vids[c] = EMPTY;
      this.counts[c] = 0;
    }
  }
}
