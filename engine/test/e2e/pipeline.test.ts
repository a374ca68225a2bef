import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWeft, startWeft } from '../../src/server.js';
import { idOnShard } from './weft-http.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-pipeline-'));
let weft: RunningWeft;
const T = Date.UTC(2026, 2, 10, 12);

async function start(): Promise<RunningWeft> {
  return startWeft({
    dataDir,
    port: 0,
    shards: 2,
    logLevel: 'silent',
    writeKey: 'wk',
    secretKey: 'sk',
    snapshotIntervalMs: 3_600_000,
  });
}

async function send(events: unknown[], headers: Record<string, string> = {}, body?: BodyInit) {
  const res = await fetch(`${weft.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-write-key': 'wk', ...headers },
    body: body ?? JSON.stringify({ events }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(path: string) {
  const res = await fetch(`${weft.url}${path}`, { headers: { authorization: 'Bearer sk' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function events(body: Record<string, unknown>) {
  const res = await fetch(`${weft.url}/v1/query/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk' },
    body: JSON.stringify({ from: '2026-03-01', to: '2026-04-01', interval: 'day', ...body }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { series: Array<{ total: number; breakdown?: unknown }> },
  };
}

beforeAll(async () => {
  weft = await start();
});
afterAll(async () => {
  await weft.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded pipeline over HTTP', () => {
  it('keeps good events of a batch, reports bad ones by index, and counts a retried batch once', async () => {
    const batch = [
      { event_id: 'p-1', event: 'signup', distinct_id: 'alice', time: T, properties: { plan: 'pro' } },
      { event_id: 'p-2', event: 'signup', distinct_id: 42, time: T + 1, properties: { plan: 'free' } },
      { event_id: 'p-3', event: 'signup', time: T },
      { event_id: 'p-4', event: 'signup', distinct_id: 'bob', time: 'yesterday' },
    ];
    const first = await send(batch);
    expect(first.status).toBe(200);
    expect(first.body.accepted).toBe(2);
    expect((first.body.rejected as Array<{ index: number; reason: string }>).map((r) => r.index)).toEqual([
      2, 3,
    ]);
    expect((first.body.rejected as Array<{ reason: string }>)[0]!.reason).toMatch(/distinct_id/);
    expect((first.body.rejected as Array<{ reason: string }>)[1]!.reason).toMatch(/time/);
    await send(batch);
    const r = await events({ events: [{ event: 'signup' }], breakdown: 'plan' });
    expect(r.body.series.map((s) => [s.breakdown, s.total])).toEqual([
      ['free', 1],
      ['pro', 1],
    ]);
  });

  it('corrects client clock skew with sent_at', async () => {
    const sentAt = Date.now() - 3_600_000;
    const res = await fetch(`${weft.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-write-key': 'wk' },
      body: JSON.stringify({
        sent_at: sentAt,
        events: [{ event: 'skewed', distinct_id: 'clock', time: sentAt - 1000 }],
      }),
    });
    expect(res.status).toBe(200);
    const timeline = await get('/v1/users/clock/timeline');
    const time = (timeline.body.events as Array<{ time: number }>)[0]!.time;
    expect(Math.abs(time - (Date.now() - 1000))).toBeLessThan(5_000);
  });

  it('accepts msgpack and beacon bodies and keys in the body or HTTP Basic', async () => {
    const msg = pack({ events: [{ event_id: 'mp-1', event: 'mp', distinct_id: 'm', time: T }] });
    const a = await send([], { 'content-type': 'application/msgpack' }, msg);
    expect(a.body.accepted).toBe(1);
    const beacon = JSON.stringify({
      write_key: 'wk',
      events: [{ event_id: 'mp-2', event: 'mp', distinct_id: 'm', time: T }],
    });
    const b = await fetch(`${weft.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: beacon,
    });
    expect(b.status).toBe(200);
    const basic = Buffer.from('wk:').toString('base64');
    const c = await fetch(`${weft.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${basic}` },
      body: JSON.stringify({ events: [{ event_id: 'mp-3', event: 'mp', distinct_id: 'm', time: T }] }),
    });
    expect(c.status).toBe(200);
    expect((await events({ events: [{ event: 'mp' }] })).body.series[0]!.total).toBe(3);
  });

  it('answers whole-request errors with JSON naming the problem', async () => {
    const unknownKey = await send([{ event: 'x', distinct_id: 'y' }], { 'x-write-key': 'nope' });
    expect(unknownKey.status).toBe(401);
    const broken = await send([], {}, '{"events": [');
    expect(broken.status).toBe(400);
    expect((broken.body.error as { code: string }).code).toBe('invalid');
    const notArray = await send([], {}, '{"events": {}}');
    expect(notArray.status).toBe(400);
    expect(JSON.stringify(notArray.body)).toMatch(/events/);
    const noAuth = await fetch(`${weft.url}/v1/query/events`, { method: 'POST', body: '{}' });
    expect(noAuth.status).toBe(401);
    const badQuery = await events({
      events: [{ event: 'x', where: [{ prop: 'n', op: 'gt', value: 'ten' }] }],
    });
    expect(badQuery.status).toBe(400);
    expect(JSON.stringify(badQuery.body)).toMatch(/events\[0\]\.where\[0\]\.value/);
    const missing = await get('/v1/users/nobody-here/timeline');
    expect(missing.status).toBe(404);
  });

  it('moves an anonymous history to the login id on another shard at identify', async () => {
    const anon = idOnShard('anon-', 0);
    const login = idOnShard('login-', 1);
    await send([
      { event_id: 'id-1', event: 'page', distinct_id: anon, time: T },
      { event_id: 'id-2', event: 'page', distinct_id: anon, time: T + 10 },
    ]);
    await send([
      {
        event_id: 'id-3',
        event: '$identify',
        distinct_id: login,
        time: T + 20,
        properties: { $anon_distinct_id: anon },
      },
      { event_id: 'id-4', event: 'page', distinct_id: anon, time: T + 30 },
      { event_id: 'id-5', event: 'page', distinct_id: login, time: T + 40 },
    ]);
    // The move is asynchronous (shard -> main -> ingest -> other shard); wait for it to land.
    let timeline: Array<{ event: string }> = [];
    for (let i = 0; i < 100; i++) {
      const res = await get(`/v1/users/${login}/timeline`);
      timeline = (res.body.events as Array<{ event: string }>) ?? [];
      if (timeline.length === 5) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(timeline.map((e) => e.event)).toEqual(['page', 'page', '$identify', 'page', 'page']);
    expect((await get(`/v1/users/${anon}/timeline`)).body.events).toEqual(timeline);
    const uniques = await events({
      events: [{ event: 'page', where: [{ prop: '$ip', op: 'set' }] }],
      metric: 'uniques',
    });
    expect(uniques.body.series[0]!.total).toBe(1);
  });

  it('answers the same after a restart', async () => {
    const before = await events({
      events: [{ event: 'signup' }, { event: 'page' }, { event: 'mp' }],
      metric: 'uniques',
    });
    await weft.close();
    weft = await start();
    const after = await events({
      events: [{ event: 'signup' }, { event: 'page' }, { event: 'mp' }],
      metric: 'uniques',
    });
    expect(after.body).toEqual(before.body);
    const health = await fetch(`${weft.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', shards: 2, partitions: [0, 1] });
    const metrics = await (await fetch(`${weft.url}/metrics`)).text();
    expect(metrics).toMatch(/weft_index_rows\{shard="0"\} \d+/);
  });

  it('takes Segment library calls: a batch on /v1/batch and single calls on /v1/segment/*', async () => {
    const basic = `Basic ${Buffer.from('wk:').toString('base64')}`;
    const post = (path: string, body: unknown) =>
      fetch(`${weft.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic },
        body: JSON.stringify(body),
      });
    const batch = await post('/v1/batch', {
      batch: [
        {
          type: 'page',
          anonymousId: 'seg-anon',
          name: 'Home',
          properties: { path: '/' },
          messageId: 's1',
          timestamp: T,
        },
        {
          type: 'identify',
          userId: 'seg-user',
          anonymousId: 'seg-anon',
          traits: { plan: 'team' },
          messageId: 's2',
          timestamp: T + 1,
        },
      ],
    });
    expect(await batch.json()).toEqual({ accepted: 2, rejected: [] });
    const track = await post('/v1/segment/track', {
      userId: 'seg-user',
      event: 'Order Completed',
      messageId: 's3',
      timestamp: new Date(T + 2).toISOString(),
    });
    expect(await track.json()).toEqual({ success: true, accepted: 1, rejected: [] });
    expect((await post('/v1/segment/nope', {})).status).toBe(404);
    const timeline = await get('/v1/users/seg-user/timeline');
    expect((timeline.body.events as Array<{ event: string }>).map((e) => e.event)).toEqual([
      '$pageview',
      '$identify',
      'Order Completed',
    ]);
    expect((await get('/v1/users/seg-anon')).body).toEqual({
      distinct_id: 'seg-anon',
      properties: { plan: 'team' },
      event_count: 3,
      first_seen: T,
      last_seen: T + 2,
      tags: {},
      segments: [],
    });
  });

  it('serves the browser SDK for script tags', async () => {
    const res = await fetch(`${weft.url}/sdk/weft.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toMatch(/weft/);
    expect((await fetch(`${weft.url}/sdk/other.js`)).status).toBe(404);
  });

  it('survives random bytes and random JSON shapes on the batch route', async () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const shapes = [
      () => null,
      () => rand() * 1e6,
      () => 'x'.repeat(Math.floor(rand() * 300)),
      () => [],
      () => ({}),
      () => ({
        event: rand() > 0.5 ? 'e' : 7,
        distinct_id: rand() > 0.5 ? 'd' : {},
        properties: rand() > 0.5 ? { a: [1, { b: 2 }] } : 'p',
      }),
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      let body: string | Uint8Array;
      let ct: string;
      if (i % 3 === 0) {
        body = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
        ct = ['application/json', 'application/msgpack', 'text/plain'][Math.floor(rand() * 3)]!;
      } else {
        const events = Array.from({ length: Math.floor(rand() * 5) }, () =>
          shapes[Math.floor(rand() * shapes.length)]!(),
        );
        body = JSON.stringify(rand() < 0.8 ? { events } : events);
        ct = i % 3 === 1 ? 'application/json' : 'text/plain';
      }
      const res = await fetch(`${weft.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': ct, 'x-write-key': 'wk' },
        body,
      });
      statuses.add(res.status);
      expect(res.status).toBeLessThan(500);
    }
    expect(statuses.has(200)).toBe(true);
    expect((await fetch(`${weft.url}/healthz`)).status).toBe(200);
  });
});
