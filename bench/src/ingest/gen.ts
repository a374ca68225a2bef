/**
 * Deterministic synthetic event generator for the ingest benchmark: a seeded PRNG drives users,
 * Zipf-ish event names and 6–12 properties per event, so the same seed always yields the same
 * request bodies (byte for byte) and every event carries a unique event_id.
 */

import { prng } from '@weft/core';

/** Event names, most frequent first; weights fall off roughly as 1/rank (Zipf, s ≈ 1). */
export const EVENT_NAMES = [
  '$pageview',
  '$click',
  '$pageleave',
  'view_item',
  'search',
  'add_to_cart',
  'login',
  'begin_checkout',
  'purchase',
  'signup',
] as const;

const PATHS = [
  '/',
  '/pricing',
  '/docs',
  '/blog',
  '/p',
  '/cart',
  '/checkout',
  '/account',
  '/search',
  '/about',
];
const REFERRERS = [
  '',
  'https://www.google.com/',
  'https://news.ycombinator.com/',
  'https://t.co/',
  'https://duckduckgo.com/',
];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet'];
const OSES = ['Windows', 'macOS', 'iOS', 'Android', 'Linux'];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const CATEGORIES = ['shoes', 'shirts', 'bags', 'hats', 'watches', 'books', 'toys', 'games'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'];
const UTM = ['google', 'newsletter', 'twitter', 'facebook', 'partner'];
const WIDTHS = [360, 390, 414, 768, 1280, 1366, 1440, 1920, 2560];
const TERMS = ['red shoes', 'gift', 'sale', 'laptop bag', 'watch strap', 'board game', 'novel', 'cap'];

export interface GenOptions {
  seed: number;
  /** Distinct users; activity per user is skewed (a few heavy users, a long tail). */
  users: number;
  /** Event times fall in [now - spanMs, now). */
  now: number;
  spanMs?: number;
}

export interface BenchEvent {
  event_id: string;
  event: string;
  distinct_id: string;
  time: number;
  session_id: string;
  properties: Record<string, string | number | boolean>;
}

/** Cumulative weights of EVENT_NAMES for inverse-CDF sampling. */
function cumulativeZipf(n: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1);
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / sum;
  return cdf;
}

/** A UUID-shaped id whose last group is the event's ordinal: unique within a run by construction. */
function eventId(seedHex: string, rand: () => number, ordinal: number): string {
  const r = Math.floor(rand() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${seedHex}-${r}-4${r.slice(1)}-8${r.slice(0, 3)}-${ordinal.toString(16).padStart(12, '0')}`;
}

/** Yields events in a fixed order; `ordinal` numbers them from 0. */
export class EventGenerator {
  private readonly rand: () => number;
  private readonly cdf = cumulativeZipf(EVENT_NAMES.length);
  private readonly seedHex: string;
  private readonly spanMs: number;
  private ordinal = 0;

  constructor(private readonly opts: GenOptions) {
    this.rand = prng(opts.seed);
    this.seedHex = (opts.seed >>> 0).toString(16).padStart(8, '0');
    this.spanMs = opts.spanMs ?? 30 * 86_400_000;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private eventName(): string {
    const u = this.rand();
    let i = 0;
    while (i < this.cdf.length - 1 && u > this.cdf[i]!) i++;
    return EVENT_NAMES[i]!;
  }

  /** Skewed user choice: u^2 concentrates activity on low user numbers. */
  private user(): number {
    const u = this.rand();
    return Math.floor(u * u * this.opts.users);
  }

  next(): BenchEvent {
    const rand = this.rand;
    const user = this.user();
    const event = this.eventName();
    const time = this.opts.now - Math.floor(rand() * this.spanMs);
    const path = this.pick(PATHS);
    const page = path === '/p' ? `/p/${Math.floor(rand() * 500)}` : path;
    const properties: Record<string, string | number | boolean> = {
      $url: `https://shop.example.com${page}?ref=${Math.floor(rand() * 100)}`,
      $path: page,
      $browser: this.pick(BROWSERS),
      $os: this.pick(OSES),
      $screen_width: this.pick(WIDTHS),
      plan: this.pick(PLANS),
    };
    // 0–6 more properties, depending on the event.
    const extra = Math.floor(rand() * 7);
    if (extra > 0) properties.$referrer = this.pick(REFERRERS);
    if (extra > 1) properties.is_logged_in = rand() < 0.6;
    if (extra > 2) properties.utm_source = this.pick(UTM);
    if (extra > 3) properties.category = this.pick(CATEGORIES);
    if (extra > 4) properties.price = Math.round(rand() * 50_000) / 100;
    if (extra > 5) properties.currency = this.pick(CURRENCIES);
    if (event === 'search') properties.search_term = this.pick(TERMS);
    if (event === 'purchase' || event === 'add_to_cart') {
      properties.item_id = `sku-${Math.floor(rand() * 10_000)}`;
      properties.quantity = 1 + Math.floor(rand() * 4);
    }
    return {
      event_id: eventId(this.seedHex, rand, this.ordinal++),
      event,
      distinct_id: `u${user}`,
      time,
      session_id: `s${user.toString(36)}-${Math.floor(time / 1_800_000).toString(36)}`,
      properties,
    };
  }
}

/** Pre-serialized `POST /v1/batch` bodies: `count` bodies of `batchSize` events each. */
export function generateBodies(opts: GenOptions, count: number, batchSize: number): Buffer[] {
  const gen = new EventGenerator(opts);
  const bodies: Buffer[] = new Array(count);
  const events: BenchEvent[] = new Array(batchSize);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < batchSize; i++) events[i] = gen.next();
    bodies[b] = Buffer.from(JSON.stringify({ sent_at: opts.now, events }));
  }
  return bodies;
}
