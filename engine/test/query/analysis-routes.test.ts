import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeftEvent } from '@weft/core';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents } from '../../src/clickhouse/insert.js';
import { type RunningWeft, startWeft } from '../../src/server.js';
import { freshDatabase } from '../clickhouse/fixtures.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-analysis-routes-'));
const DB = 'weft_test_routes';
const T = Date.UTC(2026, 2, 10, 12);
const MIN = 60_000;
let weft: RunningWeft;

/** Three users through view -> cart -> buy; clicks and page leaves on /pricing. */
function story(): Array<Omit<WeftEvent, 'project' | 'received_at'>> {
  const out: Array<Omit<WeftEvent, 'project' | 'received_at'>> = [];
  let n = 0;
  const add = (user: string, event: string, time: number, properties: WeftEvent['properties'] = {}) =>
    out.push({ event_id: `r-${n++}`, event, distinct_id: user, time, properties });
  add('ann', 'view', T);
  add('ann', 'cart', T + 2 * MIN);
  add('ann', 'buy', T + 5 * MIN);
  add('ben', 'view', T);
  add('ben', 'cart', T + 40 * MIN);
  add('cat', 'view', T + 86_400_000);
  add('ann', 'view', T + 86_400_000);
  for (const [user, x, y] of [
    ['ann', 100, 50],
    ['ann', 110, 55],
    ['ben', 900, 400],
  ] as const) {
    add(user, '$click', T + MIN, {
      $url: 'https://a.example/pricing',
      $path: '/pricing',
      $x: x,
      $y: y,
      $dw: 1000,
      $vw: 1000,
      $el_selector: '#buy',
      $rage: user === 'ben',
    });
  }
  add('ann', '$pageleave', T + 3 * MIN, {
    $url: 'https://a.example/pricing',
    $path: '/pricing',
    $vw: 1000,
    $scroll_depth: 75,
  });
  add('ben', '$pageleave', T + 3 * MIN, {
    $url: 'https://a.example/pricing',
    $path: '/pricing',
    $vw: 1000,
    $scroll_depth: 30,
  });
  return out;
}

async function post(path: string, body: Record<string, unknown>, accept = 'application/json') {
  const res = await fetch(`${weft.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk', accept },
    body: JSON.stringify(body),
  });
  return res;
}

async function json(path: string, body: Record<string, unknown>) {
  const res = await post(path, body);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const range = { from: '2026-03-10', to: '2026-03-13' };
const funnel = { steps: [{ event: 'view' }, { event: 'cart' }, { event: 'buy' }], window: '30m', ...range };

beforeAll(async () => {
  const ch = await freshDatabase(DB);
  weft = await startWeft({
    dataDir,
    port: 0,
    shards: 2,
    logLevel: 'silent',
    writeKey: 'wk',
    secretKey: 'sk',
    snapshotIntervalMs: 3_600_000,
    clickhouseUrl: process.env.CLICKHOUSE_URL,
    clickhouseDatabase: DB,
  });
  const res = await fetch(`${weft.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-write-key': 'wk' },
    body: JSON.stringify({ events: story() }),
  });
  expect(((await res.json()) as { accepted: number }).accepted).toBe(story().length);
  // Until the Kafka sink writes ClickHouse, load the same events there directly.
  await insertEvents(
    ch,
    story().map((e) => ({ ...e, project: 'default', received_at: e.time })),
  );
  await ch.close();
});
afterAll(async () => {
  await weft?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('analysis routes', () => {
  it('funnel: users per step, conversions and times; the same from ClickHouse', async () => {
    const { status, body } = await json('/v1/query/funnel', funnel);
    expect(status).toBe(200);
    expect(body.steps).toEqual([
      expect.objectContaining({
        event: 'view',
        users: 3,
        conversion_from_prev: 1,
        median_ms_from_prev: null,
      }),
      expect.objectContaining({
        event: 'cart',
        users: 1,
        conversion_from_first: 1 / 3,
        median_ms_from_prev: 2 * MIN,
      }),
      expect.objectContaining({ event: 'buy', users: 1, conversion_from_prev: 1, p90_ms_from_prev: 3 * MIN }),
    ]);
    expect((await json('/v1/query/funnel', { ...funnel, engine: 'clickhouse' })).body).toEqual(body);
  });

  it('funnel users: converted and dropped as CSV and NDJSON', async () => {
    const csv = await post('/v1/query/funnel/users', { ...funnel, step: 2, status: 'dropped' });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(await csv.text()).toBe('distinct_id\nben\ncat\n');
    const nd = await post('/v1/query/funnel/users', {
      ...funnel,
      step: 3,
      format: 'ndjson',
      engine: 'clickhouse',
    });
    expect(await nd.text()).toBe('{"distinct_id":"ann"}\n');
  });

  it('retention, paths and heatmap answer the same from the index and from ClickHouse', async () => {
    const queries: Array<[string, Record<string, unknown>]> = [
      [
        '/v1/query/retention',
        { start: { event: 'view' }, return: { event: 'view' }, period: 'day', periods: 2, ...range },
      ],
      ['/v1/query/paths', { start: { event: 'view' }, depth: 3, ...range }],
      ['/v1/query/heatmap', { path: '/pricing', grid: 10, ...range }],
    ];
    for (const [path, body] of queries) {
      const index = await json(path, body);
      expect(index.status).toBe(200);
      expect((await json(path, { ...body, engine: 'clickhouse' })).body).toEqual(index.body);
    }
    const retention = (await json(queries[0]![0], queries[0]![1])).body;
    expect(retention.cohorts).toEqual([
      { date: '2026-03-10', size: 2, returned: [2, 1, 0] },
      { date: '2026-03-11', size: 2, returned: [2, 0, 0] },
      { date: '2026-03-12', size: 0, returned: [0, 0, 0] },
    ]);
    const heatmap = (await json(queries[2]![0], queries[2]![1])).body;
    expect(heatmap).toMatchObject({
      clicks: 3,
      rage_clicks: 1,
      cells: [
        { x: 1, y: 0, count: 2 },
        { x: 9, y: 4, count: 1 },
      ],
      elements: [{ selector: '#buy', count: 3, users: 2, rage: 1 }],
    });
    expect(
      (heatmap.scroll as Array<{ depth: number; users: number }>).slice(3, 9).map((s) => s.users),
    ).toEqual([2, 1, 1, 1, 1, 0]);
  });

  it('answers an Arrow IPC stream when asked to', async () => {
    const res = await post('/v1/query/funnel', funnel, 'application/vnd.apache.arrow.stream');
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.numRows).toBe(3);
    expect(table.getChild('users')!.toArray()).toEqual(Float64Array.from([3, 1, 1]));
  });

  it('events: top N with "other", Arrow rows per point', async () => {
    const body = {
      events: [{ event: '$click' }],
      metric: 'uniques',
      breakdown: '$x',
      top: 1,
      interval: 'day',
      ...range,
    };
    const { body: res } = await json('/v1/query/events', body);
    const series = res.series as Array<{ breakdown: unknown; total: number; other?: boolean }>;
    expect(series.map((s) => [s.breakdown, s.total, s.other ?? false])).toEqual([
      [100, 1, false],
      ['$other', 2, true],
    ]);
    expect((await json('/v1/query/events', { ...body, engine: 'clickhouse' })).body).toEqual(res);
    const arrow = await post('/v1/query/events', body, 'application/vnd.apache.arrow.stream');
    const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
    expect(table.numRows).toBe(6);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['event', 'breakdown', 't', 'value', 'total']);
  });

  it('rejects bad requests with the field at fault', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['/v1/query/funnel', { ...funnel, window: 'soon' }, /window/],
      ['/v1/query/funnel', { ...funnel, steps: [{ event: 'view' }] }, /steps/],
      ['/v1/query/funnel/users', { ...funnel, step: 1, status: 'dropped' }, /step/],
      ['/v1/query/paths', { start: { event: 'a' }, end: { event: 'b' }, ...range }, /end/],
      ['/v1/query/paths', { depth: 11, ...range }, /depth/],
      ['/v1/query/heatmap', { ...range }, /url/],
      [
        '/v1/query/retention',
        { start: { event: 'a' }, return: { event: 'a' }, from: '2026-03-10', to: '2026-03-01' },
        /to/,
      ],
    ];
    for (const [path, body, field] of cases) {
      const { status, body: err } = await json(path, body);
      expect(status, path).toBe(400);
      expect(JSON.stringify(err)).toMatch(field);
    }
  });
});
