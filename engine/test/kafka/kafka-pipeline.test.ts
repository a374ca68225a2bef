import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { shardOf } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEncoder } from '../../src/bus/event-codec.js';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import {
  countEvents,
  postBatch,
  query,
  SECRET_KEY,
  type ServerProcess,
  startServerProcess,
} from '../e2e/server-process.js';
import {
  clickhouseCounts,
  clickhouseOf,
  eventually,
  kafkaEnv,
  produce,
  producer,
  readDeadLetters,
  services,
} from './kafka-env.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-kafka-'));
const env = kafkaEnv('pipeline');
let server: ServerProcess;
let ch: ClickHouse;

beforeAll(async () => {
  server = await startServerProcess(dataDir, env);
  ch = clickhouseOf(env);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await ch?.command(`DROP DATABASE IF EXISTS \`${env.CLICKHOUSE_DATABASE}\``);
  await ch?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const T = Date.UTC(2026, 4, 10);

function batch(name: string, b: number, size = 100) {
  return Array.from({ length: size }, (_, i) => ({
    event_id: `${name}-${b}-${i}`,
    event: name,
    distinct_id: `user-${(b * 13 + i) % 211}`,
    time: T + b * 1000 + i,
    properties: { b, plan: i % 2 === 0 ? 'pro' : 'free' },
  }));
}

describe('HTTP → Kafka → ClickHouse + index', () => {
  it('stores every accepted event exactly once in both, retries included', async () => {
    const BATCHES = 40;
    for (let b = 0; b < BATCHES; b += 4) {
      const sent = await Promise.all([0, 1, 2, 3].map((k) => postBatch(server.url, batch('kp_view', b + k))));
      for (const res of sent) expect(res.status).toBe(200);
    }
    // Clients retry batches whose answer they lost: the same event ids again.
    for (let b = 0; b < 10; b++) expect((await postBatch(server.url, batch('kp_view', b))).status).toBe(200);

    // The index answers after applying what this process acknowledged.
    expect(await countEvents(server.url, 'kp_view')).toBe(BATCHES * 100);
    const counts = await eventually(
      'ClickHouse rows',
      () => clickhouseCounts(ch, 'kp_view'),
      (c) => c.ids === BATCHES * 100,
    );
    expect(counts.rows).toBe(BATCHES * 100);

    // The SQL engine over the same table answers the same numbers.
    const body = {
      events: [{ event: 'kp_view' }],
      metric: 'uniques',
      from: '2026-05-01',
      to: '2026-06-01',
      interval: 'day',
      breakdown: 'plan',
    };
    const fromIndex = await query(server.url, '/v1/query/events', body);
    const fromSql = await query(server.url, '/v1/query/events', { ...body, engine: 'clickhouse' });
    expect(fromSql).toEqual(fromIndex);
  });

  it('resolves a chain of identifies (a -> b, then b -> c) in SQL as the index does', async () => {
    const shards = Number(env.WEFT_SHARDS);
    const idOn = (prefix: string, ok: (shard: number) => boolean): string => {
      for (let i = 0; ; i++) if (ok(shardOf('default', `${prefix}-${i}`, shards))) return `${prefix}-${i}`;
    };
    // Three partitions: a's history moves to b's, then b's person (a's history with it, or
    // after it) moves on to c's, and a's later events follow it there.
    const c = idOn('kc-c', () => true);
    const b = idOn('kc-b', (s) => s !== shardOf('default', c, shards));
    const a = idOn('kc-a', (s) => s !== shardOf('default', b, shards) && s !== shardOf('default', c, shards));
    const DAY = 86_400_000;
    const t = Date.UTC(2026, 4, 12);
    let n = 0;
    const e = (event: string, distinctId: string, time: number, properties: Record<string, string> = {}) => ({
      event_id: `kc-${n++}`,
      event,
      distinct_id: distinctId,
      time,
      properties,
    });
    const batches = [
      [e('kc_view', a, t + 1000), e('kc_home', c, t + 500), e('kc_view', 'kc-solo', t + 1000)],
      [e('$identify', b, t + 2000, { $anon_distinct_id: a }), e('kc_cart', b, t + DAY)],
      [
        e('$identify', c, t + DAY + 1000, { $anon_distinct_id: b }),
        e('kc_buy', c, t + DAY + 2000),
        e('kc_buy', a, t + DAY + 3000),
        e('kc_cart', 'kc-solo', t + 2 * DAY),
      ],
      [e('kc_view', a, t + 2 * DAY + 1000), e('kc_buy', b, t + 2 * DAY + 2000)],
    ];
    for (const events of batches) expect((await postBatch(server.url, events)).status).toBe(200);

    const range = { from: '2026-05-12', to: '2026-05-20' };
    const funnel = {
      steps: [{ event: 'kc_view' }, { event: 'kc_cart' }, { event: 'kc_buy' }],
      window: '2d',
      ...range,
    };
    const fromIndex = await eventually(
      'index funnel over the chain',
      () => query(server.url, '/v1/query/funnel', funnel) as Promise<{ steps: Array<{ users: number }> }>,
      (r) =>
        isDeepStrictEqual(
          r.steps.map((s) => s.users),
          [2, 2, 1],
        ),
    );
    const analyses: Array<[string, Record<string, unknown>, unknown]> = [
      ['/v1/query/funnel', funnel, fromIndex],
      [
        '/v1/query/events',
        {
          events: [{ event: 'kc_view' }, { event: 'kc_cart' }, { event: 'kc_buy' }],
          metric: 'uniques',
          interval: 'day',
          ...range,
        },
        undefined,
      ],
      [
        '/v1/query/retention',
        {
          start: { event: 'kc_view' },
          return: { event: 'kc_cart' },
          period: 'day',
          periods: 3,
          cohort: 'first',
          ...range,
        },
        undefined,
      ],
    ];
    const buyers = (await query(server.url, '/v1/query/events', {
      events: [{ event: 'kc_buy' }],
      metric: 'uniques',
      interval: 'month',
      ...range,
    })) as { series: Array<{ total: number }> };
    expect(buyers.series[0]!.total).toBe(1);
    const timelines = await Promise.all(
      [a, b, c].map(async (id) => {
        const res = await fetch(`${server.url}/v1/users/${id}/timeline`, {
          headers: { authorization: `Bearer ${SECRET_KEY}` },
        });
        return ((await res.json()) as { events: Array<{ event: string }> }).events.map((x) => x.event);
      }),
    );
    expect(timelines[0]).toEqual([
      'kc_home',
      'kc_view',
      '$identify',
      'kc_cart',
      '$identify',
      'kc_buy',
      'kc_buy',
      'kc_view',
      'kc_buy',
    ]);
    expect(timelines[1]).toEqual(timelines[0]);
    expect(timelines[2]).toEqual(timelines[0]);
    for (const [path, body, known] of analyses) {
      const want = known ?? (await query(server.url, path, body));
      await eventually(
        `${path} from ClickHouse`,
        () => query(server.url, path, { ...body, engine: 'clickhouse' }),
        (r) => isDeepStrictEqual(r, want),
      );
    }
    const persons = await ch.rows<{ distinct_id: string; person: string }>(
      `SELECT distinct_id, argMax(person, version) AS person FROM ${ch.table('identities')}
       WHERE distinct_id IN ('${a}', '${b}', '${c}') GROUP BY distinct_id ORDER BY distinct_id`,
    );
    expect(persons).toEqual([a, b, c].sort().map((id) => ({ distinct_id: id, person: c })));
  });

  it('sends unreadable records and unusable events to the dead-letter topic and keeps consuming', async () => {
    const { brokers } = services();
    const p = await producer(brokers);
    try {
      // Garbage bytes, an unknown record type, and a record with one event whose time is NaN.
      await produce(p, env.KAFKA_TOPIC!, 0, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
      await produce(p, env.KAFKA_TOPIC!, 1, Buffer.from('{"not":"a record"}'));
      const events = [0, 1, 2].map((i) => ({
        event_id: `poison-${i}`,
        project: 'default',
        event: 'kp_poison',
        distinct_id: `poisoned-${i}`,
        time: i === 1 ? Number.NaN : T + i,
        received_at: T,
        properties: {},
      }));
      const record = new EventEncoder().encode('default', events, new Uint32Array([1, 2, 3, 4, 5, 6]));
      await produce(p, env.KAFKA_TOPIC!, 2, Buffer.from(record));
    } finally {
      await new Promise<void>((resolve) => p.disconnect(() => resolve()));
    }
    const letters = await readDeadLetters(brokers, env.KAFKA_DLQ_TOPIC ?? `${env.KAFKA_TOPIC}.dlq`, 3);
    const reasons = letters.map((l) => l.reason).sort();
    expect(reasons).toHaveLength(3);
    expect(reasons.some((r) => /runs past the record|shorter than/.test(r))).toBe(true);
    expect(reasons).toContain('unknown record type 123');
    expect(reasons).toContain('1 of 3 events are unusable');
    const rejected = JSON.parse(
      letters.find((l) => l.reason.includes('unusable'))!.value.toString(),
    ) as Array<{
      reason: string;
      event: { event_id: string };
    }>;
    expect(rejected[0]!.event.event_id).toBe('poison-1');
    expect(rejected[0]!.reason).toMatch(/time/);
    // The usable events of the record, and everything after, are applied.
    expect((await postBatch(server.url, batch('kp_after', 0, 10))).status).toBe(200);
    expect(await countEvents(server.url, 'kp_after')).toBe(10);
    await eventually(
      'poison survivors',
      () => countEvents(server.url, 'kp_poison'),
      (n) => n === 2,
    );
    await eventually(
      'ClickHouse survivors',
      () => clickhouseCounts(ch, 'kp_poison'),
      (c) => c.ids === 2,
    );
  });
});
