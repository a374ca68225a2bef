import { type Growable, i32, u32 } from './growable.js';

const NONE = -1;
/** Reseal when the tail holds this many rows, or a quarter of the sealed ones if more. */
const MIN_TAIL = 1 << 16;

/**
 * One user's timeline as columns (row, time, event and session value ids) in [from, to) of
 * the arrays: a view into the sealed part when the user has no tail rows (no copy), else a
 * merged copy in the buffer's own storage. Views must not be written; `own()` copies first.
 */
export class TimelineBuffer {
  rows: Uint32Array = new Uint32Array(0);
  times: Float64Array = new Float64Array(0);
  events: Uint32Array = new Uint32Array(0);
  sessions: Uint32Array = new Uint32Array(0);
  from = 0;
  to = 0;
  private ownRows: Uint32Array = new Uint32Array(256);
  private ownTimes: Float64Array = new Float64Array(256);
  private ownEvents: Uint32Array = new Uint32Array(256);
  private ownSessions: Uint32Array = new Uint32Array(256);

  view(
    rows: Uint32Array,
    times: Float64Array,
    events: Uint32Array,
    sessions: Uint32Array,
    from: number,
    to: number,
  ): void {
    this.rows = rows;
    this.times = times;
    this.events = events;
    this.sessions = sessions;
    this.from = from;
    this.to = to;
  }

  /** Own storage for `n` entries, made current with from = 0, to = n. */
  ownFor(n: number): void {
    if (this.ownRows.length < n) {
      const cap = Math.max(n, this.ownRows.length * 2);
      this.ownRows = new Uint32Array(cap);
      this.ownTimes = new Float64Array(cap);
      this.ownEvents = new Uint32Array(cap);
      this.ownSessions = new Uint32Array(cap);
    }
    this.view(this.ownRows, this.ownTimes, this.ownEvents, this.ownSessions, 0, n);
  }

  /** Makes the current entries writable (copies a view into own storage). */
  own(): void {
    if (this.rows === this.ownRows) return;
    const { rows, times, events, sessions, from, to } = this;
    this.ownFor(to - from);
    this.rows.set(rows.subarray(from, to));
    this.times.set(times.subarray(from, to));
    this.events.set(events.subarray(from, to));
    this.sessions.set(sessions.subarray(from, to));
  }
}

/** Columns a timeline copies (rows are written in ingest order, so reading them by row jumps around). */
export interface TimelineColumns {
  time(): Float64Array;
  user(): Uint32Array;
  event(): Uint32Array;
  session(): Uint32Array;
  rowCount(): number;
}

/**
 * Per-user, time-ordered timelines kept columnar: a sealed part (rows sorted by user, then
 * time, then row, with copies of their time, event and session so a user's timeline is one
 * contiguous read, and each user's slice bounds) plus a small tail of rows added since,
 * chained per user in time order through `next`. Reading a user merges the two; the tail
 * is folded into a new sealed part once it grows past a fraction of it, so the cost stays
 * linear overall and nothing per row lives on the JS heap.
 */
export class Timelines {
  private sealedRows: Uint32Array = new Uint32Array(0);
  private sealedTime: Float64Array = new Float64Array(0);
  private sealedEvent: Uint32Array = new Uint32Array(0);
  private sealedSession: Uint32Array = new Uint32Array(0);
  private sealedFrom: Uint32Array = new Uint32Array(0);
  private sealedTo: Uint32Array = new Uint32Array(0);
  private readonly head = i32(1024);
  private readonly last = i32(1024);
  private readonly next = i32(4096);
  /** Users whose rows were evicted; their row cells remain in the columns but belong to no one. */
  private readonly dead = u32(1024);
  private tailSize = 0;
  private sealedCount = 0;

  constructor(private readonly columns: TimelineColumns) {}

  private times(): Float64Array {
    return this.columns.time();
  }

  addUser(): void {
    this.head.push(NONE);
    this.last.push(NONE);
    this.dead.push(0);
  }

  get userCount(): number {
    return this.head.length;
  }

  /** Bytes held, for memory reports. */
  bytes(): number {
    return (
      this.sealedRows.byteLength +
      this.sealedTime.byteLength +
      this.sealedEvent.byteLength +
      this.sealedSession.byteLength +
      this.sealedFrom.byteLength +
      this.sealedTo.byteLength +
      this.head.data.byteLength +
      this.last.data.byteLength +
      this.next.data.byteLength +
      this.dead.data.byteLength
    );
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

  /** Points `out` at `user`'s timeline, oldest first (ties by row); returns its length. */
  readColumns(user: number, out: TimelineBuffer): number {
    let s = 0;
    let sEnd = 0;
    if (user < this.sealedFrom.length) {
      s = this.sealedFrom[user]!;
      sEnd = this.sealedTo[user]!;
    }
    const r = this.head.data[user]!;
    if (r === NONE) {
      out.view(this.sealedRows, this.sealedTime, this.sealedEvent, this.sealedSession, s, sEnd);
      return sEnd - s;
    }
    const next = this.next.data;
    let n = sEnd - s;
    for (let t = r; t !== NONE; t = next[t]!) n++;
    out.ownFor(n);
    return this.merge(s, sEnd, r, out.rows, out.times, out.events, out.sessions, 0);
  }

  /**
   * Writes sealed cells [s, sEnd) merged with the tail chain from row `r`, in (time, row) order,
   * as columns from position `k` on; returns the position after the last one written.
   */
  private merge(
    s: number,
    sEnd: number,
    r: number,
    rows: Uint32Array,
    time: Float64Array,
    event: Uint32Array,
    session: Uint32Array,
    k: number,
  ): number {
    const times = this.times();
    const events = this.columns.event();
    const sessions = this.columns.session();
    const next = this.next.data;
    const { sealedRows, sealedTime, sealedEvent, sealedSession } = this;
    while (s < sEnd || r !== NONE) {
      if (s < sEnd && (r === NONE || before(times, sealedRows[s]!, times[r]!, r))) {
        rows[k] = sealedRows[s]!;
        time[k] = sealedTime[s]!;
        event[k] = sealedEvent[s]!;
        session[k] = sealedSession[s]!;
        s++;
      } else {
        rows[k] = r;
        time[k] = times[r]!;
        event[k] = events[r]!;
        session[k] = sessions[r]!;
        r = next[r]!;
      }
      k++;
    }
    return k;
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

  /**
   * Folds the tail into a new sealed part: per user, its sealed slice merged with its tail
   * chain (both already in order), runs of users without tail rows copied in one go. Linear
   * and mostly memcpy, as it runs on the shard between records: re-sorting every row here
   * stalled ingest and segment changes by ~400 ms per million users.
   */
  seal(): void {
    const userCount = this.head.length;
    const oldUsers = this.sealedFrom.length;
    const { sealedFrom, sealedTo, sealedRows, sealedTime, sealedEvent, sealedSession } = this;
    let total = this.tailSize;
    for (let u = 0; u < oldUsers; u++) total += sealedTo[u]! - sealedFrom[u]!;
    const rows = new Uint32Array(total);
    const time = new Float64Array(total);
    const event = new Uint32Array(total);
    const session = new Uint32Array(total);
    const from = new Uint32Array(userCount);
    const to = new Uint32Array(userCount);
    const head = this.head.data;
    let k = 0;
    // Old sealed cells [runFrom, runTo) still to copy to k: consecutive slices copy at once.
    let runFrom = 0;
    let runTo = 0;
    const copyRun = () => {
      if (runTo > runFrom) {
        rows.set(sealedRows.subarray(runFrom, runTo), k);
        time.set(sealedTime.subarray(runFrom, runTo), k);
        event.set(sealedEvent.subarray(runFrom, runTo), k);
        session.set(sealedSession.subarray(runFrom, runTo), k);
        k += runTo - runFrom;
      }
      runFrom = runTo = 0;
    };
    for (let u = 0; u < userCount; u++) {
      const s = u < oldUsers ? sealedFrom[u]! : 0;
      const sEnd = u < oldUsers ? sealedTo[u]! : 0;
      const r = head[u]!;
      if (r === NONE) {
        if (sEnd > s && s !== runTo) {
          copyRun();
          runFrom = runTo = s;
        }
        from[u] = k + runTo - runFrom;
        if (sEnd > s) runTo = sEnd;
        to[u] = k + runTo - runFrom;
        continue;
      }
      copyRun();
      from[u] = k;
      k = this.merge(s, sEnd, r, rows, time, event, session, k);
      to[u] = k;
    }
    copyRun();
    this.install(rows, time, event, session, from, to);
  }

  /** Makes these columns the sealed part, holding every row: the tail is empty after. */
  private install(
    rows: Uint32Array,
    time: Float64Array,
    event: Uint32Array,
    session: Uint32Array,
    from: Uint32Array,
    to: Uint32Array,
  ): void {
    this.sealedRows = rows;
    this.sealedTime = time;
    this.sealedEvent = event;
    this.sealedSession = session;
    this.sealedFrom = from;
    this.sealedTo = to;
    this.sealedCount = rows.length;
    this.head.data.fill(NONE, 0, from.length);
    this.last.data.fill(NONE, 0, from.length);
    this.tailSize = 0;
  }

  /**
   * Builds every timeline from the columns alone (a snapshot restore, where no row was
   * linked): a counting sort by user, then by time within users. Replaces whatever was sealed.
   */
  rebuild(): void {
    const n = this.columns.rowCount();
    const users = this.columns.user();
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
    const events = this.columns.event();
    const sessions = this.columns.session();
    const time = new Float64Array(rows.length);
    const event = new Uint32Array(rows.length);
    const session = new Uint32Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      time[i] = times[r]!;
      event[i] = events[r]!;
      session[i] = sessions[r]!;
    }
    this.install(rows, time, event, session, from.subarray(0, userCount), fill);
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
