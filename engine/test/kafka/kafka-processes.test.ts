import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  countEvents,
  postBatch,
  query,
  type ServerProcess,
  startServerProcess,
} from '../e2e/server-process.js';
import { clickhouseCounts, clickhouseOf, eventually, freePort, kafkaEnv, owned } from './kafka-env.js';

const root = mkdtempSync(join(tmpdir(), 'weft-kafka-procs-'));
const running: ServerProcess[] = [];
const databases: Array<Record<string, string>> = [];

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  for (const env of databases) {
    const ch = clickhouseOf(env);
    await ch.command(`DROP DATABASE IF EXISTS \`${env.CLICKHOUSE_DATABASE}\``);
    await ch.close();
  }
  rmSync(root, { recursive: true, force: true });
});

const T = Date.UTC(2026, 6, 1);
const STEPS = ['kx_visit', 'kx_cart', 'kx_pay'];

/** A user's journey: everyone visits, two in three add to cart, one in three pays. */
function journey(user: number) {
  const steps = user % 3 === 0 ? 3 : user % 3 === 1 ? 2 : 1;
  return STEPS.slice(0, steps).map((event, k) => ({
    event_id: `kx-${user}-${k}`,
    event,
    distinct_id: `kx-user-${user}`,
    time: T + user * 10_000 + k * 1000,
    properties: { tier: user % 4 === 0 ? 'gold' : 'basic' },
  }));
}

async function start(name: string, env: Record<string, string>, port: number, peers: number[]) {
  const s = await startServerProcess(join(root, name), {
    ...env,
    WEFT_PORT: String(port),
    WEFT_PEERS: peers.map((p) => `http://127.0.0.1:${p}`).join(','),
    WEFT_PARTITION_DIR: join(root, `partitions-${env.KAFKA_TOPIC}`),
  });
  running.push(s);
  return s;
}

const funnelBody = {
  steps: STEPS.map((event) => ({ event })),
  window: '1d',
  from: '2026-07-01',
  to: '2026-08-01',
  breakdown: 'tier',
};

describe('two engine processes in one consumer group', () => {
  it('split the partitions and answer, through either one, what one process answers', async () => {
    const env = kafkaEnv('procs');
    databases.push(env);
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await start('a', env, pa, [pb]);
    await eventually(
      'a owns every partition',
      () => owned(a.url),
      (p) => p.length === 4,
    );
    const b = await start('b', env, pb, [pa]);
    const split = await eventually(
      'the group splits the partitions',
      async () => [await owned(a.url), await owned(b.url)],
      ([x, y]) => x!.length === 2 && y!.length === 2,
    );
    expect([...split[0]!, ...split[1]!].sort()).toEqual([0, 1, 2, 3]);

    const USERS = 600;
    const events = Array.from({ length: USERS }, (_, u) => journey(u)).flat();
    // Half the traffic through each process.
    for (let i = 0; i < events.length; i += 200) {
      const target = (i / 200) % 2 === 0 ? a : b;
      expect((await postBatch(target.url, events.slice(i, i + 200))).status).toBe(200);
    }
    const expected = { visit: USERS, cart: 400, pay: 200 };
    for (const s of [a, b]) {
      expect(await countEvents(s.url, 'kx_visit', 'uniques')).toBe(expected.visit);
      expect(await countEvents(s.url, 'kx_cart')).toBe(expected.cart);
    }
    const fa = await query(a.url, '/v1/query/funnel', funnelBody);
    const fb = await query(b.url, '/v1/query/funnel', funnelBody);
    expect(fb).toEqual(fa);
    const steps = (fa as { steps: Array<{ users: number }> }).steps.map((s) => s.users);
    expect(steps).toEqual([expected.visit, expected.cart, expected.pay]);
    // ClickHouse, written by both processes' consumers, agrees.
    await eventually(
      'ClickHouse rows',
      () => clickhouseCounts(clickhouseOf(env), 'kx_pay'),
      (c) => c.ids === 200,
    );
    expect(await query(a.url, '/v1/query/funnel', { ...funnelBody, engine: 'clickhouse' })).toEqual(fa);

    // One process leaves: the other takes its partitions, with their index state, and still answers the same.
    await b.stop();
    running.splice(running.indexOf(b), 1);
    await eventually(
      'a owns every partition again',
      () => owned(a.url),
      (p) => p.length === 4,
    );
    expect(await query(a.url, '/v1/query/funnel', funnelBody)).toEqual(fa);
  });

  it('loses nothing and counts nothing twice when an engine process is SIGKILLed mid-stream', async () => {
    const env = kafkaEnv('kill');
    databases.push(env);
    const port = await freePort();
    const first = await start('kill-1', env, port, []);
    await eventually(
      'owns every partition',
      () => owned(first.url),
      (p) => p.length === 4,
    );
    const BATCHES = 200;
    const batch = (b: number) =>
      Array.from({ length: 50 }, (_, i) => ({
        event_id: `kk-${b}-${i}`,
        event: 'kk_event',
        distinct_id: `kk-user-${(b * 31 + i) % 499}`,
        time: T + b * 100 + i,
        properties: { b },
      }));
    const acked = new Set<number>();
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (next < BATCHES && !killed) {
        const b = next++;
        try {
          if ((await postBatch(first.url, batch(b))).status === 200) acked.add(b);
        } catch {
          // Cut by the kill: retried below.
        }
      }
    };
    const senders = Array.from({ length: 6 }, sender);
    while (acked.size < BATCHES / 3) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    await first.stop('SIGKILL');
    running.splice(running.indexOf(first), 1);
    await Promise.all(senders);

    // The restarted process rejoins the group once the dead member's session expires.
    const second = await start('kill-1', env, port, []);
    await eventually(
      'owns every partition',
      () => owned(second.url),
      (p) => p.length === 4,
      60_000,
    );
    expect(await countEvents(second.url, 'kk_event')).toBeGreaterThanOrEqual(acked.size * 50);
    for (let b = 0; b < BATCHES; b++) {
      if (!acked.has(b)) expect((await postBatch(second.url, batch(b))).status).toBe(200);
    }
    expect(await countEvents(second.url, 'kk_event')).toBe(BATCHES * 50);
    const c = await eventually(
      'ClickHouse rows',
      () => clickhouseCounts(clickhouseOf(env), 'kk_event'),
      (x) => x.ids === BATCHES * 50,
    );
    expect(c.rows).toBe(BATCHES * 50);
  });
});
