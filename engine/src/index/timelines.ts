import { type Growable, i32, u32 } from './growable.js';

const NONE = -1;
/** Reseal when the tail holds this many rows, or a quarter of the sealed ones if more. */
const MIN_TAIL = 1 << 16;

/**
 * Per-user, time-ordered row lists kept columnar: a sealed part (rows sorted by user, then
 * time, then row, with each user's slice bounds) plus a small tail of rows added since,
 * chained per user in time order through `next`. Reading a user merges the two; the tail
 * is folded into a new sealed part once it grows past a fraction of it, so the cost stays
 * linear overall and nothing per row lives on the JS heap.
 */
export class Timelines {
  private sealedRows = new Uint32Array(0);
  private sealedFrom = new Uint32Array(0);
  private sealedTo = new Uint32Array(0);
  private readonly head = i32(1024);
  private readonly last = i32(1024);
  private readonly next = i32(4096);
  /** Users whose rows were evicted; their row cells remain in the columns but belong to no one. */
  private readonly dead = u32(1024);
  private tailSize = 0;
  private sealedCount = 0;

  constructor(
    /** The time column, read for ordering. */
    private readonly times: () => Float64Array,
    /** The user column, read when resealing. */
    private readonly users: () => Uint32Array,
    private readonly rowCount: () => number,
  ) {}

  addUser(): void {
    this.head.push(NONE);
    this.last.push(NONE);
    this.dead.push(0);
  }

  get userCount(): number {
    return this.head.length;
  }

  /** Number of rows of `user` (sealed and tail). */
  size(user: number): number {
    let n = user < this.sealedFrom.length ? this.sealedTo[user]! - this.sealedFrom[user]! : 0;
    for (let r = this.head.data[user]!; r !== NONE; r = this.next.data[r]!) n++;
    return n;
  }

  /** Adds `row` (already in the columns) to `user`'s timeline. */
  add(user: number, row: number): void {
    while (this.next.length <= row) this.next.push(NONE);
    this.link(user, row);
    if (this.tailSize > Math.max(MIN_TAIL, this.sealedCount >>> 2)) this.seal();
  }

  private link(user: number, row: number): void {
    const times = this.times();
    const next = this.next.data;
    const head = this.head.data;
    const last = this.last.data;
    const t = times[row]!;
    const tail = last[user]!;
    this.tailSize++;
    next[row] = NONE;
    if (tail === NONE) {
      head[user] = row;
      last[user] = row;
      return;
    }
    if (before(times, tail, t, row)) {
      next[tail] = row;
      last[user] = row;
      return;
    }
    // Out of order: walk the (short) tail chain to the insertion point.
    let prev = NONE;
    let cur = head[user]!;
    while (cur !== NONE && before(times, cur, t, row)) {
      prev = cur;
      cur = next[cur]!;
    }
    next[row] = cur;
    if (prev === NONE) head[user] = row;
    else next[prev] = row;
  }

  /**
   * Writes `user`'s rows, oldest first (ties by row), into `out.data` and returns how many.
   * `out` grows as needed; callers reuse one scratch across users.
   */
  read(user: number, out: Growable<Uint32Array>): number {
    out.length = 0;
    const times = this.times();
    const next = this.next.data;
    let s = 0;
    let sEnd = 0;
    if (user < this.sealedFrom.length) {
      s = this.sealedFrom[user]!;
      sEnd = this.sealedTo[user]!;
    }
    const sealed = this.sealedRows;
    let r = this.head.data[user]!;
    while (s < sEnd && r !== NONE) {
      const a = sealed[s]!;
      if (before(times, a, times[r]!, r)) {
        out.push(a);
        s++;
      } else {
        out.push(r);
        r = next[r]!;
      }
    }
    while (s < sEnd) out.push(sealed[s++]!);
    while (r !== NONE) {
      out.push(r);
      r = next[r]!;
    }
    return out.length;
  }

  /** Moves every row of `from` into `to` (an identity merge); the user column is rewritten by the caller. */
  moveAll(from: number, to: number, scratch: Growable<Uint32Array>): void {
    this.read(from, scratch);
    this.clear(from);
    const rows = scratch.data;
    for (let i = 0; i < scratch.length; i++) this.link(to, rows[i]!);
  }

  /** Forgets `user`'s rows (an eviction); they stay in the columns but no timeline holds them. */
  evict(user: number): void {
    this.clear(user);
    this.dead.data[user] = 1;
  }

  private clear(user: number): void {
    if (user < this.sealedFrom.length) this.sealedTo[user] = this.sealedFrom[user]!;
    const next = this.next.data;
    for (let r = this.head.data[user]!; r !== NONE; r = next[r]!) this.tailSize--;
    this.head.data[user] = NONE;
    this.last.data[user] = NONE;
  }

  /** Folds the tail into a new sealed part: a counting sort by user, then by time within users. */
  seal(): void {
    const n = this.rowCount();
    const users = this.users();
    const times = this.times();
    const userCount = this.head.length;
    const dead = this.dead.data;
    const from = new Uint32Array(userCount + 1);
    for (let r = 0; r < n; r++) {
      const u = users[r]!;
      if (dead[u] === 0) from[u + 1]!++;
    }
    for (let u = 0; u < userCount; u++) from[u + 1]! += from[u]!;
    const rows = new Uint32Array(from[userCount]!);
    const fill = from.slice(0, userCount);
    for (let r = 0; r < n; r++) {
      const u = users[r]!;
      if (dead[u] === 0) rows[fill[u]!++] = r;
    }
    for (let u = 0; u < userCount; u++) sortSlice(rows, from[u]!, fill[u]!, times);
    this.sealedRows = rows;
    this.sealedFrom = from.subarray(0, userCount);
    this.sealedTo = fill;
    this.sealedCount = rows.length;
    this.head.data.fill(NONE, 0, userCount);
    this.last.data.fill(NONE, 0, userCount);
    this.tailSize = 0;
  }
}

/** Whether row `a` sorts before a row at time `t` with number `row`. */
function before(times: Float64Array, a: number, t: number, row: number): boolean {
  const ta = times[a]!;
  return ta < t || (ta === t && a < row);
}

/** Sorts rows[lo, hi) by (time, row); slices are usually already in order. */
function sortSlice(rows: Uint32Array, lo: number, hi: number, times: Float64Array): void {
  let sorted = true;
  for (let i = lo + 1; i < hi && sorted; i++)
    sorted = !before(times, rows[i]!, times[rows[i - 1]!]!, rows[i - 1]!);
  if (sorted) return;
  const slice = Array.from(rows.subarray(lo, hi));
  slice.sort((a, b) => times[a]! - times[b]! || a - b);
  rows.set(slice, lo);
}
