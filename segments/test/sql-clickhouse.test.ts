import type { Properties, PropValue } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition } from '../src/definition.js';
import { compilePlan } from '../src/plan.js';
import { numericPortrait } from '../src/portrait.js';
import { PROP_TYPE, planCountSql, planMembersSql, type SqlContext, segmentMembersSql } from '../src/sql.js';
import { parseCondition } from '../src/validate.js';
import { clickhouse, clickhouseUrl } from './helpers/clickhouse.js';
import { type Dataset, MemorySource, naiveMember, planMembers } from './helpers/data.js';
import { NOW, randomCondition, randomDataset, rng } from './helpers/random.js';

/**
 * The SQL of sql.ts, run by the real ClickHouse (18.16 from docker/services.sh, or any server
 * CLICKHOUSE_URL names), selects exactly the members evaluatePlan finds over an in-memory
 * source built from the same data. The tables carry what the engine's will: replayed event
 * rows, superseded profile versions, removed tags and another project's rows.
 */

const DB = `weft_segments_test_${process.pid}_${Date.now()}`;
const PROJECT = 'shop';
const data: Dataset = randomDataset(rng(11), 120);
let url: string;

const ctx: SqlContext = {
  project: PROJECT,
  now: NOW,
  tables: {
    events: `${DB}.events`,
    profiles: `${DB}.profiles`,
    tags: `${DB}.tags`,
    members: `${DB}.members`,
  },
};

function propColumns(props: Properties) {
  const keys = Object.keys(props);
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

async function insert(table: string, rows: object[]): Promise<void> {
  if (rows.length === 0) return;
  await clickhouse(
    url,
    `INSERT INTO ${DB}.${table} FORMAT JSONEachRow`,
    rows.map((r) => JSON.stringify(r)).join('\n'),
  );
}

async function members(sql: string): Promise<string[]> {
  const text = await clickhouse(url, `${sql} FORMAT TabSeparated`);
  return text.split('\n').filter((line) => line !== '');
}

beforeAll(async () => {
  url = await clickhouseUrl();
  await clickhouse(url, `CREATE DATABASE ${DB}`);
  const props =
    'prop_keys Array(String), prop_values Array(String), prop_types Array(UInt8), prop_numbers Array(Float64)';
  await clickhouse(
    url,
    `CREATE TABLE ${DB}.events (project String, event String, event_id String, person String, time_ms UInt64, ${props}) ENGINE = MergeTree ORDER BY (project, event, person, time_ms)`,
  );
  await clickhouse(
    url,
    `CREATE TABLE ${DB}.profiles (project String, person String, ${props}, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (project, person)`,
  );
  await clickhouse(
    url,
    `CREATE TABLE ${DB}.tags (project String, person String, tag String, value String, deleted UInt8, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (project, person, tag)`,
  );
  await clickhouse(
    url,
    `CREATE TABLE ${DB}.members (project String, segment String, person String) ENGINE = MergeTree ORDER BY (project, segment, person)`,
  );

  const eventRows = data.events.map((e) => ({
    project: PROJECT,
    event: e.event,
    event_id: e.event_id,
    person: e.person,
    time_ms: e.time,
    ...propColumns(e.properties),
  }));
  // Replays: the same events again, in another part, must not count twice.
  await insert('events', eventRows);
  await insert(
    'events',
    eventRows.filter((_, i) => i % 3 === 0),
  );
  await insert(
    'events',
    eventRows.slice(0, 50).map((row) => ({ ...row, project: 'other' })),
  );

  const profiles = [...data.profiles].map(([person, p]) => ({
    project: PROJECT,
    person,
    ...propColumns(p),
    version: 2,
  }));
  // Older versions with other values, inserted after the current ones: FINAL must pick version 2.
  await insert('profiles', profiles);
  await insert(
    'profiles',
    profiles.map((row) => ({
      ...row,
      ...propColumns({ plan: 'team', age: 99, vip: true, city: 'Paris' }),
      version: 1,
    })),
  );
  await insert('profiles', [
    { project: 'other', person: 'p000', ...propColumns({ plan: 'pro', age: 1 }), version: 3 },
  ]);

  const tagRows: object[] = [];
  const removed: object[] = [];
  for (const [person, tags] of data.tags) {
    for (const [tag, value] of tags) {
      tagRows.push({ project: PROJECT, person, tag, value: value ?? '', deleted: 0, version: 2 });
    }
  }
  // Tags that were set and later removed, on persons the dataset knows otherwise.
  for (const person of [...data.profiles.keys()].slice(0, 20)) {
    if (data.tags.get(person)?.has('churn')) continue;
    removed.push({ project: PROJECT, person, tag: 'churn', value: '', deleted: 0, version: 1 });
    tagRows.push({ project: PROJECT, person, tag: 'churn', value: '', deleted: 1, version: 2 });
  }
  await insert('tags', tagRows);
  await insert('tags', removed);
  await insert('tags', [
    { project: 'other', person: 'p000', tag: 'gold', value: 'a', deleted: 0, version: 1 },
  ]);

  const memberRows = [...data.members].flatMap(([segment, list]) =>
    list.map((person) => ({ project: PROJECT, segment, person })),
  );
  await insert('members', memberRows);
  await insert('members', [{ project: 'other', segment: 'listed', person: 'zz-other' }]);
});

afterAll(async () => {
  if (url) await clickhouse(url, `DROP DATABASE IF EXISTS ${DB}`);
});

describe('segment SQL in ClickHouse equals evaluatePlan', () => {
  it('knows the same persons', async () => {
    expect(await members(planMembersSql({ kind: 'all' }, ctx))).toEqual(new MemorySource(data).persons);
  });

  const handWritten: Condition[] = [
    { prop: 'plan', op: 'eq', value: 'pro' },
    { prop: 'plan', op: 'neq', value: 'pro' },
    { prop: 'age', op: 'between', value: [20, 40] },
    { prop: 'age', op: 'eq', value: null },
    { prop: 'age', op: 'in', value: ['30', 31, 32] },
    { prop: 'vip', op: 'eq', value: false },
    { prop: 'score', op: 'gte', value: 4.5 },
    { prop: 'city', op: 'contains', value: 'er' },
    { prop: 'city', op: 'notset' },
    { tag: 'churn' },
    { not: { tag: 'churn' } },
    { tag: 'gold', value: 'a' },
    { segment: 'listed' },
    { did: 'purchase', count: { op: 'gte', value: 2 } },
    { did: 'view', where: [{ prop: 'price', op: 'lt', value: 50 }], within: { last: '7d' } },
    { not_did: 'cart', within: { last: '3d' } },
    { did: 'cart', count: { op: 'lt', value: 2 }, within: { from: '2024-06-01', to: '2024-06-10' } },
    { did: 'view', count: { op: 'neq', value: 1 } },
    {
      did: 'purchase',
      where: [{ prop: 'price', op: 'neq', value: 10 }],
      count: { op: 'between', value: [0, 1] },
    },
    {
      and: [
        { or: [{ prop: 'plan', op: 'in', value: ['pro', 'team'] }, { tag: 'gold' }] },
        { not: { did: 'purchase', within: { last: '2w' } } },
        { prop: 'age', op: 'gt', value: 25 },
      ],
    },
  ];

  it.each(handWritten.map((c) => [JSON.stringify(c), c] as const))('%s', async (_, input) => {
    const cond = parseCondition(input);
    const plan = compilePlan(cond);
    const expected = planMembers(plan, data, NOW);
    expect(expected).toEqual(new MemorySource(data).persons.filter((p) => naiveMember(cond, p, data, NOW)));
    expect(await members(planMembersSql(plan, ctx))).toEqual(expected);
    const count = await clickhouse(url, `${planCountSql(plan, ctx)} FORMAT TabSeparated`);
    expect(Number(count.trim())).toBe(expected.length);
  });

  it('inlines segment references', async () => {
    const pros: Condition = { and: [{ prop: 'plan', op: 'eq', value: 'pro' }, { did: 'view' }] };
    const lookup = (id: string) => (id === 'pros' ? { definition: pros } : id === 'listed' ? {} : undefined);
    const cond = parseCondition({ or: [{ segment: 'pros' }, { segment: 'listed' }] }, { lookup });
    const expected = planMembers(compilePlan(cond, { lookup, inline: true }), data, NOW);
    expect(expected.length).toBeGreaterThan(3);
    expect(await members(segmentMembersSql(cond, ctx, { lookup }))).toEqual(expected);
  });

  it('agrees on 120 random definitions', async () => {
    const r = rng(2024);
    for (let i = 0; i < 120; i++) {
      const cond = parseCondition(randomCondition(r));
      const plan = compilePlan(cond);
      expect(await members(planMembersSql(plan, ctx)), JSON.stringify(cond)).toEqual(
        planMembers(plan, data, NOW),
      );
    }
  });
});

describe('portraits in ClickHouse', () => {
  it('quartiles equal quantileExact over the same profiles', async () => {
    const age = "indexOf(prop_keys, 'age')";
    const text = await clickhouse(
      url,
      `SELECT min(x), max(x), quantileExact(0.25)(x), quantileExact(0.5)(x), quantileExact(0.75)(x), avg(x) FROM (SELECT prop_numbers[${age}] AS x FROM ${DB}.profiles FINAL WHERE project = '${PROJECT}' AND ${age} > 0 AND prop_types[${age}] = ${PROP_TYPE.number}) FORMAT TabSeparated`,
    );
    const [min, max, q1, median, q3, mean] = text.trim().split('\t').map(Number);
    const p = numericPortrait([...data.profiles.values()].map((profile) => profile.age));
    expect(p.count).toBeGreaterThan(50);
    expect({ min: p.min, max: p.max, q1: p.q1, median: p.median, q3: p.q3 }).toEqual({
      min,
      max,
      q1,
      median,
      q3,
    });
    expect(p.mean).toBeCloseTo(mean!, 9);
  });
});
