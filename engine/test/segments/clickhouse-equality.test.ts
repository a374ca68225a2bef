import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Properties, type PropValue, parseTime, prng } from '@weft/core';
import {
  compilePlan,
  type DefinedEvent,
  type DefinedEventLookup,
  evaluatePlan,
  PROP_TYPE,
  parseCondition,
  type RuleLookup,
  type SegmentLookup,
  type SqlContext,
  segmentMembersSql,
} from '@weft/segments';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../../src/clickhouse/client.js';
import { DAY, type Harness, harness, PROJECT } from './helpers.js';

/**
 * Membership from the index (profile and tag bitmaps, per-day event bitmaps, maintained
 * segments) equals segmentMembersSql run by the real ClickHouse on the same data: the shared
 * datasets with profiles and tags added, and generated data with window-edge events. Defined
 * events ("A+", "B+") are expanded on both sides; the rule tag "paying" stands for "buyers".
 */

const DATASETS = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
const DB = `weft_segment_eq_${process.pid}`;
let ch: ClickHouse;

type Row = { distinct_id: string; event: string; time: number; properties: Properties };

function readDataset(file: string): Row[] {
  const [header, ...lines] = readFileSync(`${DATASETS}${file}`, 'utf8').trim().split('\n');
  const cols = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const row: Row = { distinct_id: '', event: '', time: 0, properties: {} };
    cols.forEach((c, j) => {
      const v = cells[j]!;
      if (c === 'user_id') row.distinct_id = v;
      else if (c === 'event') row.event = v;
      else if (c === 'timestamp') row.time = parseTime(v)!;
      else row.properties[c] = v;
    });
    return row;
  });
}

/** The prop_* columns of a property bag; `$` keys are kept for events (`$el_text`), not profiles. */
function propColumns(props: Properties, keepDollar = false) {
  const keys = Object.keys(props).filter((k) => keepDollar || !k.startsWith('$'));
  const type = (v: PropValue): number =>
    v === null
      ? PROP_TYPE.null
      : typeof v === 'number'
        ? PROP_TYPE.number
        : typeof v === 'boolean'
          ? PROP_TYPE.boolean
          : PROP_TYPE.string;
  return {
    prop_keys: keys,
    prop_values: keys.map((k) => (props[k] === null ? '' : String(props[k]))),
    prop_types: keys.map((k) => type(props[k]!)),
    prop_numbers: keys.map((k) => (typeof props[k] === 'number' ? props[k] : 0)),
  };
}

interface Loaded {
  project: string;
  h: Harness;
  now: number;
  lookup: SegmentLookup;
  events: DefinedEventLookup;
  rules: RuleLookup;
}

/**
 * Feeds rows through the index (first event of each user carries a generated profile, some
 * users get tags, one static list, a maintained segment counting a defined event) and the
 * same data into ClickHouse under `project`.
 */
async function load(
  project: string,
  rows: Row[],
  now: number,
  seed: number,
  defined: Record<string, DefinedEvent>,
): Promise<Loaded> {
  const r = prng(seed);
  const events: DefinedEventLookup = (name) => (Object.hasOwn(defined, name) ? defined[name] : undefined);
  const h = harness(now, events);
  const seen = new Set<string>();
  const plans = ['free', 'pro', 'team'];
  const withProfiles = rows.map((row) => {
    if (seen.has(row.distinct_id)) return row;
    seen.add(row.distinct_id);
    if (r() < 0.1) return row;
    const $set: Properties = {
      plan: plans[Math.floor(r() * 3)]!,
      ltv: Math.round(r() * 5000) / 4,
      vip: r() < 0.3,
    };
    if (r() < 0.2) $set.ltv = Math.round(r() * 3) * 100;
    return { ...row, $set };
  });
  for (let i = 0; i < withProfiles.length; i += 1000) h.send(withProfiles.slice(i, i + 1000));
  const tagRows: object[] = [];
  let version = 0;
  for (const id of seen) {
    if (r() < 0.25) {
      const value = r() < 0.5 ? 'gold' : null;
      h.tag(id, { op: 'add', tag: 'loyal', value });
      tagRows.push({ project, person: id, tag: 'loyal', value: value ?? '', deleted: 0, version: ++version });
      if (r() < 0.2) {
        h.tag(id, { op: 'remove', tag: 'loyal', value: null });
        tagRows.push({ project, person: id, tag: 'loyal', value: '', deleted: 1, version: ++version });
      }
    }
  }
  const listed = [...seen].filter(() => r() < 0.1);
  h.segments.define([{ id: 'listed', mode: 'static', members: listed }]);
  h.define('buyers', {
    did: rows.some((x) => x.event === 'payment_done') ? 'payment_done' : 'payment_details',
  });
  h.define('plus-buyers', { did: 'B+', within: { last: '90d' } });
  h.segments.setRules({ paying: 'buyers' });
  await ch.insert(
    'events',
    withProfiles.map((row, i) => ({
      project,
      event: row.event,
      event_id: `${project}-${i}`,
      person: row.distinct_id,
      time_ms: row.time,
      ...propColumns(row.properties, true),
    })),
  );
  await ch.insert(
    'profiles',
    [...seen].flatMap((id) => {
      const profile = h.index.profile(id);
      return profile ? [{ project, person: id, ...propColumns(profile), version: 1 }] : [];
    }),
  );
  await ch.insert('tags', tagRows);
  await ch.insert(
    'members',
    listed.map((person) => ({ project, segment: 'listed', person })),
  );
  const buyersDefinition = parseCondition({
    did: rows.some((x) => x.event === 'payment_done') ? 'payment_done' : 'payment_details',
  });
  const plusBuyersDefinition = parseCondition({ did: 'B+', within: { last: '90d' } }, { events });
  const lookup: SegmentLookup = (id) =>
    id === 'listed'
      ? {}
      : id === 'buyers'
        ? { definition: buyersDefinition }
        : id === 'plus-buyers'
          ? { definition: plusBuyersDefinition }
          : undefined;
  return { project, h, now, lookup, events, rules: (tag) => (tag === 'paying' ? 'buyers' : undefined) };
}

async function compare(data: Loaded, definition: unknown): Promise<number> {
  const { lookup, events, rules } = data;
  const cond = parseCondition(definition, { lookup, events, rules });
  const fromIndex = evaluatePlan(compilePlan(cond, { events }), data.h.segments.source, data.now)
    .bits.toArray()
    .map((u) => data.h.index.names[u]!)
    .sort();
  const ctx: SqlContext = {
    project: data.project,
    now: data.now,
    tables: {
      events: `${DB}.events`,
      profiles: `${DB}.profiles`,
      tags: `${DB}.tags`,
      members: `${DB}.members`,
    },
  };
  const sql = segmentMembersSql(cond, ctx, { lookup, events, rules });
  const fromSql = (await ch.rows<{ person: string }>(sql)).map((x) => x.person).sort();
  expect(fromIndex, JSON.stringify(definition)).toEqual(fromSql);
  return fromIndex.length;
}

const datasets: Array<{
  file: string;
  now: number;
  events: [string, string];
  defined: Record<string, DefinedEvent>;
}> = [
  {
    file: 'ecom.csv',
    now: Date.UTC(2024, 5, 30),
    events: ['product_view', 'payment_details'],
    defined: {
      'A+': { event: 'product_view', where: [{ prop: 'platform', op: 'eq', value: 'mobile' }] },
      'B+': { event: 'payment_details', where: [{ prop: 'acquisition_channel', op: 'neq', value: 'email' }] },
    },
  },
  {
    // No event properties here: the filters hold for every event, the names still expand.
    file: 'simple-onlineshop.csv',
    now: Date.UTC(2020, 3, 30),
    events: ['catalog', 'payment_done'],
    defined: {
      'A+': { event: 'catalog', where: [{ prop: 'platform', op: 'notset' }] },
      'B+': { event: 'payment_done', where: [{ prop: 'platform', op: 'neq', value: 'mobile' }] },
    },
  },
];

function definitions(a: string, b: string, now: number): unknown[] {
  return [
    { prop: 'plan', op: 'in', value: ['pro', 'team'] },
    { prop: 'plan', op: 'neq', value: 'pro' },
    { prop: 'ltv', op: 'between', value: [100, 900.5] },
    { prop: 'ltv', op: 'gt', value: 200 },
    { prop: 'ltv', op: 'lte', value: 100 },
    { prop: 'vip', value: true },
    { prop: 'plan', op: 'contains', value: 'e' },
    { prop: 'plan', op: 'notset' },
    { tag: 'loyal' },
    { tag: 'loyal', value: 'gold' },
    { or: [{ tag: 'paying' }, { tag: 'paying', value: 'x' }] },
    { and: [{ tag: 'paying' }, { not: { tag: 'loyal' } }] },
    { segment: 'listed' },
    { segment: 'buyers' },
    { did: a, within: { last: '30d' } },
    { did: a, count: { op: 'gte', value: 5 }, within: { from: now - 90 * DAY, to: now - 30 * DAY } },
    { did: a, count: { op: 'between', value: [2, 4] } },
    { not_did: b, within: { last: '60d' } },
    { did: b, count: { op: 'lt', value: 2 } },
    { did: a, where: [{ prop: 'platform', op: 'eq', value: 'mobile' }], within: { last: '14d' } },
    {
      and: [
        { prop: 'plan', value: 'free' },
        { or: [{ tag: 'loyal' }, { did: b, within: { last: '90d' } }] },
        { not: { segment: 'listed' } },
      ],
    },
    {
      or: [
        { and: [{ prop: 'vip', value: true }, { not_did: a }] },
        { not: { prop: 'ltv', op: 'gte', value: 50 } },
      ],
    },
    { did: 'A+', within: { last: '30d' } },
    {
      did: 'A+',
      where: [{ prop: 'platform', op: 'neq', value: 'desktop' }],
      count: { op: 'between', value: [1, 3] },
    },
    { not_did: 'B+', within: { last: '60d' } },
    { segment: 'plus-buyers' },
    {
      and: [
        { prop: 'plan', op: 'neq', value: 'free' },
        { or: [{ did: 'B+' }, { not_did: 'A+', count: { op: 'gte', value: 2 } }] },
      ],
    },
  ];
}

beforeAll(async () => {
  const url = process.env.CLICKHOUSE_URL;
  if (!url)
    throw new Error('CLICKHOUSE_URL is not set: run through vitest (its global setup starts ClickHouse)');
  ch = new ClickHouse({ url, database: DB });
  await ch.command(`DROP DATABASE IF EXISTS ${DB}`);
  await ch.command(`CREATE DATABASE ${DB}`);
  const props =
    'prop_keys Array(String), prop_values Array(String), prop_types Array(UInt8), prop_numbers Array(Float64)';
  await ch.command(
    `CREATE TABLE ${DB}.events (project String, event String, event_id String, person String, time_ms UInt64, ${props}) ENGINE = MergeTree ORDER BY (project, event, person, time_ms)`,
  );
  await ch.command(
    `CREATE TABLE ${DB}.profiles (project String, person String, ${props}, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (project, person)`,
  );
  await ch.command(
    `CREATE TABLE ${DB}.tags (project String, person String, tag String, value String, deleted UInt8, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (project, person, tag)`,
  );
  await ch.command(
    `CREATE TABLE ${DB}.members (project String, segment String, person String) ENGINE = MergeTree ORDER BY (project, segment, person)`,
  );
}, 120_000);

afterAll(async () => {
  await ch?.command(`DROP DATABASE IF EXISTS ${DB}`);
  await ch?.close();
});

describe('index membership equals ClickHouse SQL', () => {
  for (const [n, ds] of datasets.entries()) {
    it(`on ${ds.file}, for every leaf kind and nesting`, async () => {
      const data = await load(`${PROJECT}-${n}`, readDataset(ds.file), ds.now, 100 + n, ds.defined);
      const sizes: number[] = [];
      for (const d of definitions(ds.events[0], ds.events[1], ds.now)) sizes.push(await compare(data, d));
      // The definitions select something and not everything, so the comparison means something.
      expect(sizes.filter((s) => s > 0).length).toBeGreaterThan(sizes.length * 0.7);
    });
  }

  it('on generated data with events on window edges and day boundaries', async () => {
    const r = prng(9);
    const now = Date.UTC(2025, 2, 10, 13, 17, 5, 250);
    const rows: Row[] = [];
    for (let u = 0; u < 300; u++) {
      const n = Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        const pick = r();
        const time =
          pick < 0.1
            ? now - 30 * DAY // exactly on the rolling edge (inside)
            : pick < 0.2
              ? now - 30 * DAY - 1 // just outside
              : pick < 0.3
                ? Math.floor(now / DAY) * DAY - 1 // last ms of yesterday
                : pick < 0.35
                  ? now + 1 // in the future
                  : Math.floor(now - r() * 120 * DAY);
        const kind = r();
        const event = kind < 0.4 ? 'view' : kind < 0.8 ? 'payment_done' : '$click';
        const properties: Properties = { platform: r() < 0.5 ? 'mobile' : 'desktop' };
        if (event === '$click') properties.$el_text = r() < 0.5 ? 'Buy' : 'Sell';
        rows.push({ distinct_id: `g${u}`, event, time, properties });
      }
    }
    // A defined event standing for a $click on one element, as the visual definition mode makes.
    const data = await load(`${PROJECT}-gen`, rows, now, 77, {
      'A+': { event: '$click', where: [{ prop: '$el_text', op: 'eq', value: 'Buy' }] },
      'B+': { event: 'payment_done', where: [{ prop: 'platform', op: 'eq', value: 'mobile' }] },
    });
    const sizes: number[] = [];
    for (const d of definitions('view', 'payment_done', now)) sizes.push(await compare(data, d));
    // The defined-event ones (last five) select some users and not all, so they mean something.
    for (const size of sizes.slice(-5)) expect(size).toBeGreaterThan(0);
    for (const size of sizes.slice(-5)) expect(size).toBeLessThan(data.h.index.names.length);
  });
});
