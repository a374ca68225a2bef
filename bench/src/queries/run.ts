import { isDeepStrictEqual } from 'node:util';
import { shardOf, type WeftEvent } from '@weft/core';
import {
  ClickHouse,
  type EventsQuery,
  eventsPartial,
  eventsSql,
  type FunnelQuery,
  finishEvents,
  funnelPartial,
  funnelSql,
  insertEvents,
  mergeEvents,
  mergeFunnel,
  mergePaths,
  mergeRetention,
  migrate,
  type PathsQuery,
  ProjectIndex,
  pathsPartial,
  pathsSql,
  type RetentionQuery,
  retentionPartial,
  retentionSql,
  topPathEvents,
} from '@weft/engine';
import { eventAt, FUNNEL, generate, type QueryGenOptions } from './gen.js';

/**
 * Query benchmark (DESIGN §9): one generated dataset loaded into the index (in this process,
 * split over --shards shards) and into ClickHouse; each analysis timed on both in the same
 * run, answers compared, ratio printed, plus index memory per event and per user.
 *
 *   node bench/dist/queries/run.js [--users N] [--events N] [--days N] [--shards N]
 *     [--seed N] [--repeat N] [--database NAME] [--clickhouse URL] [--only events,funnel,…]
 */
interface Flags {
  users: number;
  events: number;
  days: number;
  shards: number;
  seed: number;
  repeat: number;
  database: string;
  clickhouse: string;
  /** Comma-separated analyses to run (events, funnel, retention, paths); all when empty. */
  only: string;
}

function flags(argv: string[]): Flags {
  const f: Flags = {
    users: 2_000_000,
    events: 50_000_000,
    days: 90,
    shards: 2,
    seed: 1,
    repeat: 3,
    database: 'weft_bench',
    clickhouse: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    only: '',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '') as keyof Flags;
    const value = argv[i + 1];
    if (!(key in f) || value === undefined) throw new Error(`unknown or incomplete flag ${argv[i]}`);
    (f as unknown as Record<string, string | number>)[key] =
      typeof f[key] === 'number' ? Number(value) : value;
  }
  return f;
}

const PROJECT = 'bench';
const START = Date.UTC(2025, 0, 6);
const DAY = 86_400_000;

/** Scales the per-user budget so the total lands near the requested event count. */
function calibrate(f: Flags): QueryGenOptions {
  const o: QueryGenOptions = {
    users: f.users,
    events: f.events,
    days: f.days,
    seed: f.seed,
    start: START,
    project: PROJECT,
  };
  const users = Math.min(f.users, 20_000);
  for (let round = 0; round < 3; round++) {
    const sample = generate({ ...o, users, events: (o.events * users) / f.users });
    o.events = Math.round(o.events * (f.events / ((sample.count / users) * f.users)));
  }
  return o;
}

async function loadedFingerprint(ch: ClickHouse): Promise<string> {
  await ch.command(
    `CREATE TABLE IF NOT EXISTS ${ch.table('bench_meta')} (fingerprint String) ENGINE = TinyLog`,
  );
  const rows = await ch.rows<{ fingerprint: string }>(`SELECT fingerprint FROM ${ch.table('bench_meta')}`);
  return rows[0]?.fingerprint ?? '';
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time<T>(repeat: number, run: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  let result = await run();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = process.hrtime.bigint();
    result = await run();
    times.push(ms(t));
    // A slow query (ClickHouse on a large set) is timed once after its warm-up run.
    if (times[0]! > 5000) break;
  }
  return { ms: median(times), result };
}

/**
 * Times index queries as the server runs them: each shard is a worker thread, so a pass over
 * the shards takes as long as its slowest shard (`parallel`); `serial` is the one-thread sum.
 * Merges on the main thread count in both.
 */
class ShardClock {
  parallel = 0;
  serial = 0;

  constructor(private readonly indexes: readonly ProjectIndex[]) {}

  map<P>(fn: (index: ProjectIndex) => P): P[] {
    let slowest = 0;
    const out = this.indexes.map((index) => {
      const t = process.hrtime.bigint();
      const p = fn(index);
      const d = ms(t);
      slowest = Math.max(slowest, d);
      this.serial += d;
      return p;
    });
    this.parallel += slowest;
    return out;
  }

  merge<T>(fn: () => T): T {
    const t = process.hrtime.bigint();
    const out = fn();
    const d = ms(t);
    this.parallel += d;
    this.serial += d;
    return out;
  }

  /** Median parallel and serial time of `repeat` runs after a warm-up. */
  time<T>(repeat: number, run: () => T): { parallel: number; serial: number; result: T } {
    let result = run();
    const parallel: number[] = [];
    const serial: number[] = [];
    for (let i = 0; i < repeat; i++) {
      this.parallel = 0;
      this.serial = 0;
      result = run();
      parallel.push(this.parallel);
      serial.push(this.serial);
    }
    return { parallel: median(parallel), serial: median(serial), result };
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  // Per-person arrays over tens of millions of events need more than the server's default
  // limit; paths group every event by person, so large groupings spill to disk.
  const ch = new ClickHouse({
    url: f.clickhouse,
    database: f.database,
    settings: { max_memory_usage: 12e9, max_bytes_before_external_group_by: 4e9 },
  });
  await migrate(ch);
  const o = calibrate(f);
  const fingerprint = JSON.stringify({ generator: 2, ...o });
  const reuse = (await loadedFingerprint(ch)) === fingerprint;
  if (!reuse) {
    await ch.command(`TRUNCATE TABLE ${ch.table('events')}`);
    await ch.command(`TRUNCATE TABLE ${ch.table('bench_meta')}`);
  }
  console.log(
    `generating ${f.users} users over ${f.days} days (target ${f.events} events), ${f.shards} shards`,
  );
  console.log(
    reuse
      ? 'ClickHouse already holds this dataset: loading the index only'
      : 'loading the index and ClickHouse',
  );

  const gen = generate(o);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const indexes = Array.from({ length: f.shards }, () => new ProjectIndex(PROJECT));
  const total = gen.count;
  let indexMs = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const loadStart = process.hrtime.bigint();
  // In day order, as a live stream arrives; batches go to each user's shard and to ClickHouse.
  const BATCH = 200_000;
  for (let from = 0; from < total; from += BATCH) {
    const batch: WeftEvent[] = [];
    for (let k = from; k < Math.min(total, from + BATCH); k++) batch.push(eventAt(gen, o, gen.order[k]!));
    const perShard: WeftEvent[][] = indexes.map(() => []);
    for (const e of batch) perShard[shardOf(PROJECT, e.distinct_id, f.shards)]!.push(e);
    const t = process.hrtime.bigint();
    perShard.forEach((events, shard) => {
      indexes[shard]!.applyEvents(events);
    });
    indexMs += ms(t);
    if (!reuse) {
      await inFlight;
      inFlight = insertEvents(ch, batch);
    }
    if ((from / BATCH) % 25 === 0) console.log(`  ${from + batch.length} events`);
  }
  const t = process.hrtime.bigint();
  for (const index of indexes) index.timelines.seal();
  indexMs += ms(t);
  if (!reuse) {
    await inFlight;
    console.log('  optimizing the ClickHouse table');
    await ch.command(`OPTIMIZE TABLE ${ch.table('events')} FINAL`);
    await ch.insert('bench_meta', [{ fingerprint }]);
  }
  console.log(
    `loaded ${total} events in ${(ms(loadStart) / 1000).toFixed(1)} s (index: ${(indexMs / 1000).toFixed(1)} s)`,
  );
  const users = indexes.reduce((a, i) => a + i.userCount, 0);
  gen.order = new Uint32Array(0);
  /** Index memory: typed arrays and bitmaps by part, and the JS heap grown since before loading. */
  const reportMemory = (when: string) => {
    gc?.();
    const heap = process.memoryUsage().heapUsed - before.heapUsed;
    const parts = new Map<string, number>();
    for (const index of indexes) {
      for (const [k, v] of Object.entries(index.memory())) parts.set(k, (parts.get(k) ?? 0) + v);
    }
    const typed = [...parts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `index memory ${when}: typed arrays and bitmaps ${mib(typed)} (${[...parts]
        .map(([k, v]) => `${k} ${mib(v)}`)
        .join(', ')}); JS heap +${mib(heap)}${gc ? '' : ' (run with --expose-gc for a clean heap figure)'}`,
    );
    console.log(
      `  per event: ${(typed / total).toFixed(1)} B typed + ${(heap / total).toFixed(1)} B heap; per user: ${((typed + heap) / users).toFixed(0)} B in all`,
    );
  };
  reportMemory('after loading');

  const from = START;
  const to = START + f.days * DAY;
  const eventsQ: EventsQuery = {
    events: [{ event: '$pageview' }, { event: 'purchase' }],
    metric: 'uniques',
    from,
    to,
    interval: 'day',
    tz: 'UTC',
  };
  const breakdownQ: EventsQuery = {
    ...eventsQ,
    metric: 'count',
    interval: 'week',
    breakdown: 'plan',
    top: 3,
  };
  const funnelQ: FunnelQuery = { steps: FUNNEL.map((event) => ({ event })), window: DAY, from, to };
  const retentionQ: RetentionQuery = {
    start: { event: 'signup' },
    return: { event: '$pageview' },
    from,
    to,
    period: 'day',
    periods: 14,
    cohort: 'first',
    tz: 'UTC',
  };
  const pathsQ: PathsQuery = {
    start: { event: 'view_item' },
    depth: 5,
    from,
    to,
    sessionGap: 30 * 60_000,
    top: 5,
  };
  const shards = new ShardClock(indexes);
  const index = {
    events: (q: EventsQuery) => {
      const first = shards.map((i) => eventsPartial(i, q));
      const done = shards.merge(() => finishEvents(q, first));
      if ('response' in done) return done.response;
      const keep = done.keep;
      const second = shards.map((i) => eventsPartial(i, { ...q, keep }));
      return shards.merge(() => mergeEvents({ ...q, keep }, second));
    },
    funnel: (q: FunnelQuery) => {
      const partials = shards.map((i) => funnelPartial(i, q));
      return shards.merge(() => mergeFunnel(q, partials));
    },
    retention: (q: RetentionQuery) => {
      const partials = shards.map((i) => retentionPartial(i, q));
      return shards.merge(() => mergeRetention(q, partials));
    },
    paths: (q: PathsQuery) => {
      const first = shards.map((i) => pathsPartial(i, q));
      const keep = shards.merge(() => topPathEvents(q, first));
      const second = shards.map((i) => pathsPartial(i, { ...q, keep }));
      return shards.merge(() => mergePaths(q, second));
    },
  };
  const windowFunnel = `SELECT level, count() AS n FROM (SELECT distinct_id, windowFunnel(${DAY / 1000})(time, ${FUNNEL.map(
    (s) => `event = '${s}'`,
  ).join(', ')}) AS level FROM ${ch.table('events')} WHERE project = '${PROJECT}' AND event IN (${FUNNEL.map(
    (s) => `'${s}'`,
  ).join(', ')}) GROUP BY distinct_id) GROUP BY level`;
  const cases: Array<{ name: string; budget: number; index: () => unknown; sql: () => Promise<unknown> }> = [
    {
      name: 'events: daily uniques, 2 events',
      budget: 30,
      index: () => index.events(eventsQ),
      sql: () => eventsSql(ch, PROJECT, eventsQ),
    },
    {
      name: 'events: weekly count by plan, top 3 + other',
      budget: 30,
      index: () => index.events(breakdownQ),
      sql: () => eventsSql(ch, PROJECT, breakdownQ),
    },
    {
      name: 'funnel: 4 steps, 1 day window',
      budget: 30,
      index: () => index.funnel(funnelQ),
      sql: () => funnelSql(ch, PROJECT, funnelQ),
    },
    {
      name: 'retention: daily, 14 periods, first',
      budget: 30,
      index: () => index.retention(retentionQ),
      sql: () => retentionSql(ch, PROJECT, retentionQ),
    },
    {
      name: 'paths: from view_item, depth 5, top 5',
      budget: 10,
      index: () => index.paths(pathsQ),
      sql: () => pathsSql(ch, PROJECT, pathsQ),
    },
  ];
  console.log(
    `\n${'analysis'.padEnd(46)} ${'index ms'.padStart(9)} ${'1 thread'.padStart(9)} ${'ClickHouse ms'.padStart(14)} ${'ratio'.padStart(8)} ${'1 thread'.padStart(9)}  budget  same answer`,
  );
  const only = f.only === '' ? null : f.only.split(',');
  for (const c of cases) {
    if (only !== null && !only.some((o) => c.name.startsWith(o))) continue;
    const a = shards.time(f.repeat, c.index);
    const b = await time(Math.min(f.repeat, 2), c.sql);
    const same = isDeepStrictEqual(a.result, b.result);
    console.log(
      `${c.name.padEnd(46)} ${a.parallel.toFixed(1).padStart(9)} ${a.serial.toFixed(1).padStart(9)} ${b.ms.toFixed(0).padStart(14)} ${`${(b.ms / a.parallel).toFixed(1)}x`.padStart(8)} ${`${(b.ms / a.serial).toFixed(1)}x`.padStart(9)}  ${`${c.budget}x`.padStart(6)}  ${same ? 'yes' : 'NO'}`,
    );
    if (!same) {
      console.log(
        '  index:',
        JSON.stringify(a.result).slice(0, 400),
        '\n  sql:  ',
        JSON.stringify(b.result).slice(0, 400),
      );
    }
  }
  console.log(
    '(index ms: shards in parallel, one worker thread each, as the server runs them; 1 thread: their sum)',
  );
  reportMemory('after the queries (with the property columns they built)');
  const wf = await time(Math.min(f.repeat, 2), () => ch.rows(windowFunnel));
  console.log(
    `(for scale: ClickHouse windowFunnel levels alone, second precision, no times: ${wf.ms.toFixed(0)} ms)`,
  );
  await ch.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
