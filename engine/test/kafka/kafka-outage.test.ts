import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { countEvents, postBatch, type ServerProcess, startServerProcess } from '../e2e/server-process.js';
import { clickhouseCounts, clickhouseOf, eventually, kafkaEnv } from './kafka-env.js';

const SERVICES = fileURLToPath(new URL('../../../docker/services.sh', import.meta.url));
/** A broker of this suite's own, so stopping it disturbs no other suite. */
const BROKER_ENV = {
  ...process.env,
  WEFT_SERVICES_DIR: '/var/tmp/weft-services-outage',
  KAFKA_PORT: '19092',
  KAFKA_CONTROLLER_PORT: '19093',
  // The jars the main broker's start fetched: no second download.
  KAFKA_JARS_DIR: `${process.env.WEFT_SERVICES_DIR ?? '/var/tmp/weft-services'}/kafka`,
};
const BROKERS = '127.0.0.1:19092';

function broker(command: 'up' | 'down'): void {
  execFileSync(SERVICES, [command, 'kafka'], { env: BROKER_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

const dataDir = mkdtempSync(join(tmpdir(), 'weft-kafka-outage-'));
const env = { ...kafkaEnv('outage', BROKERS), KAFKA_MESSAGE_TIMEOUT_MS: '2000' };
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.stop();
  broker('down');
  const ch = clickhouseOf(env);
  await ch.command(`DROP DATABASE IF EXISTS \`${env.CLICKHOUSE_DATABASE}\``);
  await ch.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const T = Date.UTC(2026, 8, 1);
const batch = (b: number) =>
  Array.from({ length: 50 }, (_, i) => ({
    event_id: `ko-${b}-${i}`,
    event: 'ko_event',
    distinct_id: `ko-user-${(b * 17 + i) % 301}`,
    time: T + b * 100 + i,
  }));

describe('Kafka stops during ingest', () => {
  it('answers 503 with Retry-After, and loses no acknowledged event once Kafka is back', async () => {
    broker('up');
    server = await startServerProcess(dataDir, env);
    const s = server;
    const BATCHES = 120;
    const acked = new Set<number>();
    const refusals: Array<{ status: number; retryAfter: string | null }> = [];
    const send = async (b: number) => {
      const res = await postBatch(s.url, batch(b));
      if (res.status === 200) acked.add(b);
      else refusals.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
      await res.arrayBuffer();
    };
    for (let b = 0; b < 40; b++) await send(b);
    expect(acked.size).toBe(40);

    broker('down');
    for (let b = 40; b < 60; b++) await send(b);
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      expect(r.status).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }

    broker('up');
    // Clients retry what was refused until the broker takes it again.
    for (let b = 40; b < BATCHES; b++) {
      await eventually(
        `batch ${b} accepted`,
        async () => {
          if (!acked.has(b)) await send(b);
          return acked.has(b);
        },
        (ok) => ok,
        60_000,
      );
    }
    expect(await countEvents(s.url, 'ko_event')).toBe(BATCHES * 50);
    const c = await eventually(
      'ClickHouse rows',
      () => clickhouseCounts(clickhouseOf(env), 'ko_event'),
      (x) => x.ids === BATCHES * 50,
    );
    expect(c.rows).toBe(BATCHES * 50);
  }, 240_000);
});
