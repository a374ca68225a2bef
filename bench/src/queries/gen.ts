import { type Properties, prng, type WeftEvent } from '@weft/core';

/**
 * Deterministic clickstream for the query benchmark: users with sessions spread over a
 * period (most return on later days), a Zipf mix of browsing events, and a purchase funnel
 * with drop-off at each step. Events are generated user by user into compact columns, then
 * handed out in order of their UTC day, the way a live stream reaches the index.
 */
export interface QueryGenOptions {
  users: number;
  /** Mean events per user times users; the actual total is close to it. */
  events: number;
  days: number;
  seed: number;
  start: number;
  project: string;
}

export const FUNNEL = ['view_item', 'add_to_cart', 'begin_checkout', 'purchase'] as const;
/** Probability of going on from each funnel step to the next. */
const ONWARD = [0.35, 0.55, 0.6];
/** Browsing events, most frequent first, weights ~ 1/rank. */
const BROWSE = [
  '$pageview',
  '$click',
  'search',
  'view_item',
  '$pageleave',
  'login',
  'share',
  'signup',
] as const;
const NAMES: readonly string[] = [...new Set<string>([...BROWSE, ...FUNNEL])];
const NAME_ID = new Map(NAMES.map((n, i) => [n, i]));
const BROWSE_CDF = cdf(BROWSE.map((_, i) => 1 / (i + 1)));
const PATHS = ['/', '/pricing', '/docs', '/blog', '/p', '/cart', '/account', '/search'];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const NO_PATH = 255;
const DAY = 86_400_000;

function cdf(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
}

function pick(r: number, c: readonly number[]): number {
  let i = 0;
  while (i < c.length - 1 && r > c[i]!) i++;
  return i;
}

/** A typed column that doubles as it fills. */
class Column<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/** All events as columns (about 21 bytes each); `order` lists them by UTC day. */
export interface GeneratedEvents {
  count: number;
  time: Float64Array;
  user: Uint32Array;
  seq: Uint32Array;
  event: Uint8Array;
  session: Uint16Array;
  price: Uint8Array;
  path: Uint8Array;
  plan: Uint8Array;
  order: Uint32Array;
}

/** Generates every user's events; the per-user budget is `events / users` on average. */
export function generate(o: QueryGenOptions): GeneratedEvents {
  const cap = Math.max(1024, Math.ceil(o.events * 1.1));
  const time = new Column(new Float64Array(cap), (n) => new Float64Array(n));
  const user = new Column(new Uint32Array(cap), (n) => new Uint32Array(n));
  const seq = new Column(new Uint32Array(cap), (n) => new Uint32Array(n));
  const event = new Column(new Uint8Array(cap), (n) => new Uint8Array(n));
  const session = new Column(new Uint16Array(cap), (n) => new Uint16Array(n));
  const price = new Column(new Uint8Array(cap), (n) => new Uint8Array(n));
  const path = new Column(new Uint8Array(cap), (n) => new Uint8Array(n));
  const plan = new Uint8Array(o.users);
  const perUser = o.events / o.users;
  for (let u = 0; u < o.users; u++) {
    const r = prng(o.seed * 1_000_003 + u);
    plan[u] = Math.floor(r() * r() * PLANS.length);
    // Heavy-tailed activity: most users are light, a few are heavy; the mean is perUser.
    const budget = Math.max(1, Math.round(-Math.log(1 - r() * 0.999) * perUser));
    // Most users come back on later days until their budget is spent; the rest have one session.
    const returning = r() < 0.6;
    let day = Math.floor(r() * o.days * (returning ? 0.5 : 1));
    let n = 0;
    let s = 0;
    while (n < budget && day < o.days && s < 65_535) {
      let t = o.start + day * DAY + Math.floor(r() * (DAY - 3_600_000));
      const push = (name: string, p: number, pathId: number) => {
        time.push(t);
        user.push(u);
        seq.push(n++);
        event.push(NAME_ID.get(name)!);
        session.push(s);
        price.push(p);
        path.push(pathId);
        t += 1 + Math.floor(r() * 90_000);
      };
      const length = 1 + Math.floor(r() * Math.min(30, budget - n));
      push('$pageview', 0, 0);
      for (let i = 1; i < length && n < budget; i++) {
        const name = BROWSE[pick(r(), BROWSE_CDF)]!;
        if (name === 'view_item' && r() < 0.5) {
          // Into the funnel, dropping off at each step.
          push('view_item', 5 + Math.floor(r() * 95), NO_PATH);
          for (let k = 1; k < FUNNEL.length && r() < ONWARD[k - 1]!; k++) push(FUNNEL[k]!, 0, NO_PATH);
          continue;
        }
        push(name, 0, name === '$pageview' ? Math.floor(r() * PATHS.length) : NO_PATH);
      }
      s++;
      day += returning ? 1 + Math.floor(r() * 4) : o.days;
    }
  }
  const count = time.length;
  const g: GeneratedEvents = {
    count,
    time: time.data.subarray(0, count),
    user: user.data.subarray(0, count),
    seq: seq.data.subarray(0, count),
    event: event.data.subarray(0, count),
    session: session.data.subarray(0, count),
    price: price.data.subarray(0, count),
    path: path.data.subarray(0, count),
    plan,
    order: new Uint32Array(0) as Uint32Array,
  };
  g.order = byDay(g.time, o.start, o.days);
  return g;
}

/** Event positions grouped by UTC day (a counting sort); within a day, in generation order. */
function byDay(time: Float64Array, start: number, days: number): Uint32Array {
  const first = Math.floor(start / DAY);
  const offsets = new Uint32Array(days + 2);
  for (let i = 0; i < time.length; i++) offsets[Math.floor(time[i]! / DAY) - first + 1]!++;
  for (let d = 0; d <= days; d++) offsets[d + 1]! += offsets[d]!;
  const order = new Uint32Array(time.length);
  for (let i = 0; i < time.length; i++) order[offsets[Math.floor(time[i]! / DAY) - first]!++] = i;
  return order;
}

/** The event at position `i` as the index and ClickHouse receive it. */
export function eventAt(g: GeneratedEvents, o: QueryGenOptions, i: number): WeftEvent {
  const u = g.user[i]!;
  const id = `u${u}`;
  const name = NAMES[g.event[i]!]!;
  const props: Properties = { plan: PLANS[g.plan[u]!]! };
  if (g.price[i]! > 0) props.price = g.price[i]!;
  if (g.path[i] !== NO_PATH) props.$path = PATHS[g.path[i]!]!;
  const t = g.time[i]!;
  return {
    event_id: `${id}-${g.seq[i]}`,
    project: o.project,
    event: name,
    distinct_id: id,
    time: t,
    received_at: t,
    session_id: `${id}-${g.session[i]}`,
    properties: props,
  };
}
