/**
 * Per-user, per-key frequency caps with check-and-consume: "at most `max` per `perMs`".
 * `sliding` counts consumptions in the last perMs exactly (it keeps their times, at most
 * `max` per user and key); `fixed` counts per window aligned to multiples of perMs since the
 * epoch (a 1d cap resets at 00:00 UTC) and keeps two numbers. A user lives on one shard and
 * its worker runs one call at a time, so a call is atomic for the user without locks.
 */
export type CapWindow = 'sliding' | 'fixed';

export interface CapResult {
  allowed: boolean;
  /** Consumptions still allowed now, after this one. */
  remaining: number;
  /** When a slot frees: the oldest counted consumption leaves (sliding), the window ends (fixed). */
  resetAt: number;
}

/** Plain-array form for snapshots: the window kind and [key, user, state] per counter. */
export interface CapSnapshot {
  window: CapWindow;
  entries: Array<[key: string, user: string | number, state: number[]]>;
}

/**
 * State per (key, user), one number array: [perMs, …]. Sliding: the consumption times,
 * ascending. Fixed: [perMs, windowStart, count].
 */
type State = number[];

export class FrequencyCaps {
  private readonly byKey = new Map<string, Map<string | number, State>>();

  constructor(readonly window: CapWindow = 'sliding') {}

  /** Consumes one unit if fewer than `max` were consumed in the window ending at `now`. */
  tryConsume(user: string | number, key: string, max: number, perMs: number, now: number): CapResult {
    if (!Number.isInteger(max) || max < 0)
      throw new RangeError(`max must be a whole number >= 0, got ${max}`);
    if (!(perMs > 0)) throw new RangeError(`perMs must be above 0, got ${perMs}`);
    let users = this.byKey.get(key);
    if (!users) this.byKey.set(key, (users = new Map()));
    const state = users.get(user);
    const { result, next } =
      this.window === 'sliding' ? slide(state, max, perMs, now) : fixed(state, max, perMs, now);
    if (next) users.set(user, next);
    else users.delete(user);
    if (users.size === 0) this.byKey.delete(key);
    return result;
  }

  /** Drops counters whose window has passed, so memory follows the active users. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [key, users] of this.byKey) {
      for (const [user, state] of users) {
        if (expiresAt(this.window, state) <= now) {
          users.delete(user);
          dropped++;
        }
      }
      if (users.size === 0) this.byKey.delete(key);
    }
    return dropped;
  }

  /** Counters held (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const users of this.byKey.values()) n += users.size;
    return n;
  }

  snapshot(): CapSnapshot {
    const entries: CapSnapshot['entries'] = [];
    for (const [key, users] of this.byKey) {
      for (const [user, state] of users) entries.push([key, user, [...state]]);
    }
    return { window: this.window, entries };
  }

  static restore(snapshot: CapSnapshot): FrequencyCaps {
    if (snapshot.window !== 'sliding' && snapshot.window !== 'fixed') {
      throw new Error(`frequency cap snapshot: unknown window ${JSON.stringify(snapshot.window)}`);
    }
    const caps = new FrequencyCaps(snapshot.window);
    for (const [key, user, state] of snapshot.entries) {
      const valid =
        typeof key === 'string' &&
        (typeof user === 'string' || typeof user === 'number') &&
        Array.isArray(state) &&
        state.length >= (snapshot.window === 'fixed' ? 3 : 2) &&
        state.every(Number.isFinite);
      if (!valid) throw new Error(`frequency cap snapshot: bad entry for key ${JSON.stringify(key)}`);
      let users = caps.byKey.get(key);
      if (!users) caps.byKey.set(key, (users = new Map()));
      users.set(user, [...state]);
    }
    return caps;
  }
}

function expiresAt(window: CapWindow, state: State): number {
  const per = state[0]!;
  return window === 'sliding' ? state[state.length - 1]! + per : state[1]! + per;
}

function slide(
  state: State | undefined,
  max: number,
  perMs: number,
  now: number,
): { result: CapResult; next: State | undefined } {
  // A consumption at t counts while now < t + perMs.
  const times = (state ?? [perMs]).slice(1).filter((t) => t + perMs > now);
  const allowed = times.length < max;
  if (allowed) {
    let at = times.length;
    while (at > 0 && times[at - 1]! > now) at--;
    times.splice(at, 0, now);
  }
  const result: CapResult = {
    allowed,
    remaining: Math.max(0, max - times.length),
    resetAt: times.length > 0 ? times[0]! + perMs : now,
  };
  return { result, next: times.length > 0 ? [perMs, ...times] : undefined };
}

function fixed(
  state: State | undefined,
  max: number,
  perMs: number,
  now: number,
): { result: CapResult; next: State | undefined } {
  const start = Math.floor(now / perMs) * perMs;
  let count = state && state[0] === perMs && state[1] === start ? state[2]! : 0;
  const allowed = count < max;
  if (allowed) count++;
  const result: CapResult = { allowed, remaining: Math.max(0, max - count), resetAt: start + perMs };
  return { result, next: count > 0 ? [perMs, start, count] : undefined };
}
