import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Properties, parseTime, prng, shardOf, type WeftEvent } from '@weft/core';
import { ClickHouse } from '../../src/clickhouse/client.js';
import { insertEvents } from '../../src/clickhouse/insert.js';
import { migrate } from '../../src/clickhouse/migrations.js';
import { allPersonRows } from '../../src/clickhouse/person-rows.js';
import { ProjectIndex } from '../../src/index/project-index.js';
import {
  type EventsQuery,
  type EventsResponse,
  eventsPartial,
  finishEvents,
  mergeEvents,
} from '../../src/query/event-analysis.js';
import { type FunnelQuery, type FunnelResponse, funnelPartial, mergeFunnel } from '../../src/query/funnel.js';
import {
  type HeatmapQuery,
  type HeatmapResponse,
  heatmapPartial,
  mergeHeatmap,
} from '../../src/query/heatmap.js';
import {
  mergePaths,
  type PathsQuery,
  type PathsResponse,
  pathsPartial,
  topPathEvents,
} from '../../src/query/paths.js';
import {
  mergeRetention,
  type RetentionQuery,
  type RetentionResponse,
  retentionPartial,
} from '../../src/query/retention.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
const DATASETS = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));

/** A ClickHouse database of its own for one test file, emptied and migrated. */
export async function freshDatabase(name: string): Promise<ClickHouse> {
  const url = process.env.CLICKHOUSE_URL;
  if (!url)
    throw new Error('CLICKHOUSE_URL is not set: run through vitest (its global setup starts ClickHouse)');
  const ch = new ClickHouse({ url, database: name });
  await ch.command(`DROP DATABASE IF EXISTS \`${name}\``);
  await migrate(ch);
  return ch;
}

/** A shared dataset as the importer reads it: extra columns become properties, session_id is also the session. */
export function datasetEvents(file: string, project: string): WeftEvent[] {
  const [header, ...lines] = readFileSync(`${DATASETS}${file}`, 'utf8').trim().split('\n');
  const cols = header!.split(',');
  return lines.map((line, i) => {
    const cells = line.split(',');
    const properties: Properties = {};
    let distinct = '';
    let event = '';
    let time = 0;
    let session: string | undefined;
    cols.forEach((c, j) => {
      const v = cells[j]!;
      if (c === 'user_id') distinct = v;
      else if (c === 'event') event = v;
      else if (c === 'timestamp') time = parseTime(v)!;
      else {
        if (c === 'session_id') session = v;
        properties[c] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
      }
    });
    const e: WeftEvent = {
      event_id: `${project}-${i}`,
      project,
      event,
      distinct_id: distinct,
      time,
      received_at: time,
      properties,
    };
    if (session !== undefined) e.session_id = session;
    return e;
  });
}

/** A seeded generator, so a failing case can be replayed. */
export const rng = prng;

/** Start of the generated data; generated ranges are [GEN_FROM, GEN_TO). */
export const GEN_FROM = Date.UTC(2024, 2, 4, 7, 30);
export const GEN_TO = GEN_FROM + 20 * DAY;
export const GEN_WINDOW = HOUR;
const PAGES = ['/', '/pricing', '/docs', '/blog'];

/**
 * Adversarial events: equal timestamps, steps exactly at and just past the funnel window,
 * events on the last and first millisecond of UTC days and of the range, repeated steps,
 * users with and without session ids, clicks and page leaves with heatmap properties.
 */
export function generatedEvents(project: string): WeftEvent[] {
  const r = rng(7);
  const names = ['home', 'view', 'cart', 'buy', '$click', '$pageleave'];
  const out: WeftEvent[] = [];
  let seq = 0;
  const push = (user: string, event: string, time: number, props: Properties = {}, session?: string) => {
    const e: WeftEvent = {
      event_id: `${project}-${seq++}`,
      project,
      event,
      distinct_id: user,
      time,
      received_at: time,
      properties: props,
    };
    if (session !== undefined) e.session_id = session;
    out.push(e);
  };
  const propsFor = (event: string): Properties => {
    const page = PAGES[Math.floor(r() * PAGES.length)]!;
    const p: Properties = {
      plan: ['free', 'pro', 'team'][Math.floor(r() * 3)]!,
      price: Math.floor(r() * 50),
    };
    if (r() < 0.2) delete p.plan;
    if (event === '$click') {
      const dw = r() < 0.5 ? 1280 : 390;
      Object.assign(p, {
        $url: `https://shop.example${page}`,
        $path: page,
        $vw: dw,
        $dw: dw,
        $x: Math.floor(r() * dw),
        $y: Math.floor(r() * 3000),
        $el_selector: `#main > button:nth-of-type(${Math.floor(r() * 4)})`,
        $rage: r() < 0.1,
      });
    }
    if (event === '$pageleave') {
      Object.assign(p, {
        $url: `https://shop.example${page}`,
        $path: page,
        $vw: r() < 0.5 ? 1280 : 390,
        $scroll_depth: Math.floor(r() * 1000) / 10,
      });
    }
    return p;
  };
  for (let u = 0; u < 300; u++) {
    const user = `g${u}`;
    // Some users start anonymous and identify: right after their first session (the login id
    // is new then), or after all of them (both ids have events: a merge).
    const anon = u % 7 === 1 || u % 7 === 2 ? `anon-${user}` : undefined;
    const sessions = 1 + Math.floor(r() * 4);
    let last = 0;
    for (let s = 0; s < sessions; s++) {
      const session = u % 3 === 0 ? undefined : `${user}-s${s}`;
      let t = GEN_FROM - DAY + Math.floor(r() * 22 * DAY);
      const n = 2 + Math.floor(r() * 10);
      for (let i = 0; i < n; i++) {
        const event = names[Math.floor(r() * r() * names.length)]!;
        push(anon !== undefined && s === 0 ? anon : user, event, t, propsFor(event), session);
        // A quarter of the next events share this timestamp.
        t += r() < 0.25 ? 0 : Math.floor(r() * 40 * 60_000);
      }
      last = t;
      if (anon !== undefined && (s === 0) === (u % 7 === 2)) {
        push(user, '$identify', last, { $anon_distinct_id: anon }, session);
      }
    }
  }
  // Hand-made edges.
  const d = GEN_FROM + 5 * DAY - (GEN_FROM % DAY);
  push('edge-window', 'view', GEN_FROM + HOUR);
  push('edge-window', 'cart', GEN_FROM + HOUR + GEN_WINDOW);
  push('edge-past', 'view', GEN_FROM + HOUR);
  push('edge-past', 'cart', GEN_FROM + HOUR + GEN_WINDOW + 1);
  push('edge-tie', 'cart', GEN_FROM + 2 * HOUR);
  push('edge-tie', 'view', GEN_FROM + 2 * HOUR);
  push('edge-tie', 'buy', GEN_FROM + 2 * HOUR);
  push('edge-day', 'view', d - 1);
  push('edge-day', 'cart', d);
  push('edge-day', 'buy', d + DAY - 1);
  push('edge-range', 'view', GEN_FROM - 1);
  push('edge-range', 'view', GEN_FROM);
  push('edge-range', 'cart', GEN_TO - 1);
  push('edge-range', 'buy', GEN_TO);
  push('edge-repeat', 'view', GEN_FROM + 3 * HOUR);
  push('edge-repeat', 'view', GEN_FROM + 3 * HOUR);
  push('edge-repeat', 'buy', GEN_FROM + 3 * HOUR + 1);
  push('edge-single', 'view', GEN_FROM + 4 * HOUR);
  push('edge-single', 'buy', GEN_FROM + 4 * HOUR + 5);
  return out;
}

/**
 * `events` split over `shards` shards as the server holds them once identity moves are done:
 * every id's events live on the shard of the last login id its chain of identifies leads to.
 */
export function shardEvents(events: readonly WeftEvent[], project: string, shards: number): WeftEvent[][] {
  const login = new Map<string, string>();
  for (const e of events) {
    const anon = e.properties.$anon_distinct_id;
    if (e.event === '$identify' && typeof anon === 'string' && anon !== e.distinct_id)
      login.set(anon, e.distinct_id);
  }
  const last = (id: string): string => {
    let at = id;
    for (let hops = 0; hops < login.size && login.has(at); hops++) at = login.get(at)!;
    return at;
  };
  const parts: WeftEvent[][] = Array.from({ length: shards }, () => []);
  for (const e of events) parts[shardOf(project, last(e.distinct_id), shards)]!.push(e);
  return parts;
}

/** The index of `events` split over `shards` shards (see shardEvents). */
export function shardIndexes(events: readonly WeftEvent[], project: string, shards: number): ProjectIndex[] {
  return shardEvents(events, project, shards).map((part) => {
    const index = new ProjectIndex(project);
    index.applyEvents(part);
    return index;
  });
}

/** ClickHouse holding `events` and, as a sink writes it, the person mapping of the index that applied them. */
export async function loadClickHouse(
  ch: ClickHouse,
  events: readonly WeftEvent[],
  indexes: readonly ProjectIndex[],
): Promise<void> {
  await insertEvents(ch, events);
  await ch.insert(
    'identities',
    indexes.flatMap((index) => allPersonRows(index)),
  );
}

// The index side of each analysis, as the routes run it over shards.

export function indexEvents(indexes: ProjectIndex[], q: EventsQuery): EventsResponse {
  const done = finishEvents(
    q,
    indexes.map((i) => eventsPartial(i, q)),
  );
  if ('response' in done) return done.response;
  const keep = done.keep;
  return mergeEvents(
    { ...q, keep },
    indexes.map((i) => eventsPartial(i, { ...q, keep })),
  );
}

export function indexFunnel(indexes: ProjectIndex[], q: FunnelQuery): FunnelResponse {
  return mergeFunnel(
    q,
    indexes.map((i) => funnelPartial(i, q)),
  );
}

export function indexRetention(indexes: ProjectIndex[], q: RetentionQuery): RetentionResponse {
  return mergeRetention(
    q,
    indexes.map((i) => retentionPartial(i, q)),
  );
}

export function indexPaths(indexes: ProjectIndex[], q: PathsQuery): PathsResponse {
  const keep = topPathEvents(
    q,
    indexes.map((i) => pathsPartial(i, q)),
  );
  return mergePaths(
    q,
    indexes.map((i) => pathsPartial(i, { ...q, keep })),
  );
}

export function indexHeatmap(indexes: ProjectIndex[], q: HeatmapQuery): HeatmapResponse {
  return mergeHeatmap(indexes.map((i) => heatmapPartial(i, q)));
}

/** A dataset an equality suite runs every analysis on; `indexes` are built on first use. */
export interface Dataset {
  project: string;
  events: WeftEvent[];
  from: number;
  to: number;
  steps: string[];
  indexes?: ProjectIndex[];
}

/** A fresh database holding every dataset, each also split into `shards` index shards. */
export async function loadDatasets(
  database: string,
  datasets: Dataset[],
  shards: number,
): Promise<ClickHouse> {
  const ch = await freshDatabase(database);
  for (const d of datasets) {
    d.indexes = shardIndexes(d.events, d.project, shards);
    await loadClickHouse(ch, d.events, d.indexes);
  }
  return ch;
}
