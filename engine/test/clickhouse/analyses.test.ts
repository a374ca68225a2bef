import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { eventsSql } from '../../src/clickhouse/events-sql.js';
import { funnelSql, funnelUsersSql } from '../../src/clickhouse/funnel-sql.js';
import { heatmapSql } from '../../src/clickhouse/heatmap-sql.js';
import { pathsSql } from '../../src/clickhouse/paths-sql.js';
import { retentionSql } from '../../src/clickhouse/retention-sql.js';
import type { EventsQuery } from '../../src/query/event-analysis.js';
import { type FunnelQuery, funnelUsersPartial } from '../../src/query/funnel.js';
import type { HeatmapQuery } from '../../src/query/heatmap.js';
import type { PathsQuery } from '../../src/query/paths.js';
import type { RetentionQuery } from '../../src/query/retention.js';
import {
  DAY,
  type Dataset,
  datasetEvents,
  GEN_FROM,
  GEN_TO,
  GEN_WINDOW,
  generatedEvents,
  HOUR,
  indexEvents,
  indexFunnel,
  indexHeatmap,
  indexPaths,
  indexRetention,
  loadDatasets,
} from './fixtures.js';

/**
 * Every analysis from the index (split over 3 shards) equals the same analysis run by the
 * engine's SQL generator in the real ClickHouse server, on both shared datasets and on
 * generated data with adversarial edges.
 */

const datasets: Dataset[] = [
  {
    project: 'ecom',
    events: datasetEvents('ecom.csv', 'ecom'),
    from: Date.UTC(2024, 0, 1),
    to: Date.UTC(2024, 6, 1),
    steps: ['catalog', 'product_view', 'add_to_cart', 'purchase'],
  },
  {
    project: 'shop',
    events: datasetEvents('simple-onlineshop.csv', 'shop'),
    from: Date.UTC(2019, 10, 1),
    to: Date.UTC(2020, 4, 1),
    steps: ['catalog', 'product1', 'cart', 'payment_done'],
  },
  {
    project: 'gen',
    events: generatedEvents('gen'),
    from: GEN_FROM,
    to: GEN_TO,
    steps: ['view', 'cart', 'buy'],
  },
];

let ch: ClickHouse;
beforeAll(async () => {
  ch = await loadDatasets('weft_test_analyses', datasets, 3);
});
afterAll(async () => {
  await ch?.close();
});

function eventCases(d: Dataset): Array<[string, EventsQuery]> {
  const base = { from: d.from, to: d.to, tz: 'UTC', interval: 'week' as const };
  const events = d.steps.slice(0, 2).map((event) => ({ event }));
  const prop = d.project === 'ecom' ? 'platform' : 'plan';
  const cases: Array<[string, EventsQuery]> = [
    ['weekly count', { ...base, events, metric: 'count' }],
    ['daily uniques', { ...base, events, metric: 'uniques', interval: 'day' }],
    [
      'monthly per_user in Asia/Shanghai',
      { ...base, events, metric: 'per_user', interval: 'month', tz: 'Asia/Shanghai' },
    ],
    [
      'hourly count over a partial range',
      {
        ...base,
        events,
        metric: 'count',
        interval: 'hour',
        from: d.from + 10 * DAY + 7 * HOUR + 1,
        to: d.from + 12 * DAY - 1,
      },
    ],
    [
      'uniques by a property, top 1 and other',
      { ...base, events, metric: 'uniques', breakdown: prop, top: 1 },
    ],
    [
      'count by a property in America/New_York',
      { ...base, events, metric: 'count', breakdown: prop, tz: 'America/New_York', interval: 'day' },
    ],
    [
      'weekly count by a property in UTC, top 2 and other (whole days tallied per value)',
      { ...base, events, metric: 'count', breakdown: prop, top: 2, interval: 'week', tz: 'UTC' },
    ],
    [
      'uniques for a segment',
      { ...base, events, metric: 'uniques', users: d.events.slice(0, 400).map((e) => e.distinct_id) },
    ],
  ];
  if (d.project === 'gen') {
    cases.push(
      [
        'sum of price where plan in',
        {
          ...base,
          events: [{ event: 'view', where: [{ prop: 'plan', op: 'in', value: ['pro', 'team'] }] }],
          metric: { sum: 'price' },
        },
      ],
      [
        'avg price where plan not set',
        {
          ...base,
          events: [{ event: 'buy', where: [{ prop: 'plan', op: 'notset' }] }],
          metric: { avg: 'price' },
        },
      ],
      [
        'count where price between, by price top 5',
        {
          ...base,
          events: [{ event: 'cart', where: [{ prop: 'price', op: 'between', value: [10, 30] }] }],
          metric: 'count',
          breakdown: 'price',
          top: 5,
        },
      ],
      [
        'uniques where plan neq pro and price gt 20',
        {
          ...base,
          events: [
            {
              event: 'view',
              where: [
                { prop: 'plan', op: 'neq', value: 'pro' },
                { prop: 'price', op: 'gt', value: 20 },
              ],
            },
          ],
          metric: 'uniques',
        },
      ],
    );
  }
  return cases;
}

function funnelCases(d: Dataset): Array<[string, FunnelQuery]> {
  const steps = d.steps.map((event) => ({ event }));
  const cases: Array<[string, FunnelQuery]> = [
    ['all steps, 1 day window', { steps, window: DAY, from: d.from, to: d.to }],
    ['two steps, 10 minute window', { steps: steps.slice(0, 2), window: 600_000, from: d.from, to: d.to }],
    [
      'a repeated step',
      { steps: [steps[0]!, steps[0]!, steps[1]!], window: 7 * DAY, from: d.from, to: d.to },
    ],
    ['a partial range', { steps, window: DAY, from: d.from + 3 * DAY + HOUR, to: d.from + 40 * DAY - 1 }],
    [
      'with a segment',
      { steps, window: DAY, from: d.from, to: d.to, users: d.events.slice(0, 300).map((e) => e.distinct_id) },
    ],
  ];
  if (d.project === 'ecom')
    cases.push(['by platform', { steps, window: DAY, from: d.from, to: d.to, breakdown: 'platform' }]);
  if (d.project === 'gen') {
    cases.push(
      ['window edges, 1 hour', { steps, window: GEN_WINDOW, from: d.from, to: d.to }],
      [
        'filters on steps',
        {
          steps: [
            { event: 'view', where: [{ prop: 'plan', op: 'set' }] },
            { event: 'view', where: [{ prop: 'price', op: 'lt', value: 25 }] },
            steps[2]!,
          ],
          window: DAY,
          from: d.from,
          to: d.to,
        },
      ],
      ['zero window', { steps, window: 0, from: d.from, to: d.to }],
    );
  }
  return cases;
}

function retentionCases(d: Dataset): Array<[string, RetentionQuery]> {
  const [a, b] = d.steps;
  const base = { start: { event: a! }, return: { event: b! }, from: d.from, to: d.to, tz: 'UTC' };
  return [
    ['daily, each', { ...base, period: 'day', periods: 7, cohort: 'each', to: d.from + 30 * DAY }],
    ['weekly, first', { ...base, period: 'week', periods: 4, cohort: 'first' }],
    [
      'daily in Asia/Shanghai, first, same event',
      {
        ...base,
        return: { event: a! },
        period: 'day',
        periods: 5,
        cohort: 'first',
        tz: 'Asia/Shanghai',
        to: d.from + 20 * DAY + 5 * HOUR,
      },
    ],
    [
      'weekly with a segment',
      {
        ...base,
        period: 'week',
        periods: 3,
        cohort: 'each',
        users: d.events.slice(0, 500).map((e) => e.distinct_id),
      },
    ],
  ];
}

function pathCases(d: Dataset): Array<[string, PathsQuery]> {
  const base = { from: d.from, to: d.to, sessionGap: 30 * 60_000, top: 4 };
  return [
    ['from a start event, depth 5', { ...base, start: { event: d.steps[0]! }, depth: 5 }],
    ['to an end event, depth 4', { ...base, end: { event: d.steps[2]! }, depth: 4 }],
    ['from each session start, 5 minute gap, top 2', { ...base, depth: 3, sessionGap: 300_000, top: 2 }],
    [
      'with a segment',
      {
        ...base,
        start: { event: d.steps[1]! },
        depth: 4,
        users: d.events.slice(0, 300).map((e) => e.distinct_id),
      },
    ],
  ];
}

describe.each(datasets)('$project: index equals ClickHouse', (d) => {
  it.each(eventCases(d))('events: %s', async (_name, q) => {
    expect(await eventsSql(ch, d.project, q)).toEqual(indexEvents(d.indexes!, q));
  });

  it.each(funnelCases(d))('funnel: %s', async (_name, q) => {
    const index = indexFunnel(d.indexes!, q);
    expect(index.steps[0]!.users).toBeGreaterThan(0);
    expect(await funnelSql(ch, d.project, q)).toEqual(index);
  });

  it('funnel users: converted and dropped lists', async () => {
    const q = funnelCases(d)[0]![1];
    for (const [step, status] of [
      [2, 'converted'],
      [3, 'dropped'],
    ] as const) {
      const uq = { ...q, step, status };
      const index = d.indexes!.flatMap((i) => funnelUsersPartial(i, uq)).sort();
      expect((await funnelUsersSql(ch, d.project, uq)).sort()).toEqual(index);
    }
  });

  it.each(retentionCases(d))('retention: %s', async (_name, q) => {
    expect(await retentionSql(ch, d.project, q)).toEqual(indexRetention(d.indexes!, q));
  });

  it.each(pathCases(d))('paths: %s', async (_name, q) => {
    const index = indexPaths(d.indexes!, q);
    expect(index.nodes.length).toBeGreaterThan(0);
    expect(await pathsSql(ch, d.project, q)).toEqual(index);
  });
});

describe('heatmaps: index equals ClickHouse', () => {
  const d = datasets[2]!;
  const cases: Array<[string, HeatmapQuery]> = [
    [
      'by url, desktop',
      { url: 'https://shop.example/pricing', from: d.from, to: d.to, grid: 20, viewport: { min: 1000 } },
    ],
    ['by path, mobile', { path: '/docs', from: d.from, to: d.to, grid: 10, viewport: { max: 768 } }],
    [
      'by path, any viewport, a segment',
      { path: '/', from: d.from, to: d.to, grid: 50, users: ['g1', 'g2', 'g4', 'g5', 'g7'] },
    ],
  ];
  it.each(cases)('%s', async (_name, q) => {
    const index = indexHeatmap(d.indexes!, q);
    expect(index.clicks).toBeGreaterThan(0);
    expect(await heatmapSql(ch, d.project, q)).toEqual(index);
  });
});
