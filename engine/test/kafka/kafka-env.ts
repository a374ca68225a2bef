import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { afterAll, afterEach } from 'vitest';
import { ClickHouse } from '../../src/clickhouse/client.js';
import { SECRET_KEY, type ServerProcess, startServerProcess } from '../e2e/server-process.js';

/** Broker and ClickHouse the global setup brought up (or the user preset). */
export function services(): { brokers: string; clickhouse: string } {
  const brokers = process.env.WEFT_TEST_KAFKA_BROKERS;
  const clickhouse = process.env.CLICKHOUSE_URL;
  if (!brokers || !clickhouse)
    throw new Error('the services global setup did not run (WEFT_TEST_KAFKA_BROKERS, CLICKHOUSE_URL)');
  return { brokers, clickhouse };
}

/** Server environment for Kafka mode with a topic, group and database of its own. */
export function kafkaEnv(name: string, brokers = services().brokers): Record<string, string> {
  const tag = `${name}_${randomBytes(4).toString('hex')}`;
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: `weft-test-${tag}`,
    KAFKA_GROUP: `weft-test-${tag}`,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    CLICKHOUSE_URL: services().clickhouse,
    CLICKHOUSE_DATABASE: `weft_test_${tag}`,
    WEFT_SHARDS: '4',
  };
}

export function clickhouseOf(env: Record<string, string>): ClickHouse {
  return new ClickHouse({ url: env.CLICKHOUSE_URL!, database: env.CLICKHOUSE_DATABASE! });
}

/** Rows of `events` after merges (FINAL) and distinct event ids. */
export async function clickhouseCounts(
  ch: ClickHouse,
  event: string,
): Promise<{ rows: number; ids: number }> {
  const [r] = await ch.rows<{ rows: number; ids: number }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${ch.table('events')} FINAL WHERE event = '${event}'`,
  );
  return r ?? { rows: 0, ids: 0 };
}

export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function producer(brokers: string): Promise<Kafka.Producer> {
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers, dr_cb: true });
  await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(err) : resolve())));
  p.setPollInterval(10);
  return p;
}

export function produce(p: Kafka.Producer, topic: string, partition: number, value: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReport = (err: Kafka.LibrdKafkaError | null, report: Kafka.DeliveryReport) => {
      if (report.opaque !== value) return;
      p.off('delivery-report', onReport);
      if (err) reject(err);
      else resolve();
    };
    p.on('delivery-report', onReport);
    p.produce(topic, partition, value, null, null, value);
  });
}

export interface DeadLetter {
  reason: string;
  source: string;
  value: Buffer;
}

/** Reads the dead-letter topic from its start until `count` letters arrived. */
export async function readDeadLetters(brokers: string, topic: string, count: number): Promise<DeadLetter[]> {
  const c = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': brokers, 'group.id': `dlq-reader-${randomBytes(4).toString('hex')}` },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => c.connect({}, (err) => (err ? reject(err) : resolve())));
  c.subscribe([topic]);
  const out: DeadLetter[] = [];
  const until = Date.now() + 60_000;
  try {
    while (out.length < count && Date.now() < until) {
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) =>
        c.consume(100, (err, m) => (err ? reject(err) : resolve(m))),
      );
      for (const m of batch) {
        const headers = Object.assign({}, ...(m.headers ?? [])) as Record<string, Buffer>;
        out.push({ reason: String(headers.reason), source: String(m.key), value: m.value as Buffer });
      }
    }
  } finally {
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
  return out;
}

/** The partitions a process runs, from its /healthz. */
export async function owned(url: string): Promise<number[]> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { partitions: number[] }).partitions;
}

/** A secret-key API call; a body that is not JSON (CSV and the like) comes back as text. */
export async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${SECRET_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    // CSV and the like stay text.
  }
  return { status: res.status, body: json as Record<string, unknown>, text };
}

/**
 * Engine processes of one suite on a Kafka topic and ClickHouse database of their own: the
 * servers' output is printed when a test fails, and everything is stopped and dropped after
 * the suite. `start` runs one process as the peer of the one on `peer`.
 */
export function processSuite(name: string) {
  const root = mkdtempSync(join(tmpdir(), `weft-kafka-${name}-`));
  const env = kafkaEnv(name);
  const running: ServerProcess[] = [];
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const s of running) console.error(`--- server ${s.url} (exit ${s.child.exitCode})\n${s.output()}`);
  });
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    const ch = clickhouseOf(env);
    await ch.command(`DROP DATABASE IF EXISTS \`${env.CLICKHOUSE_DATABASE}\``);
    await ch.close();
    rmSync(root, { recursive: true, force: true });
  });
  async function start(dir: string, port: number, peer: number): Promise<ServerProcess> {
    const s = await startServerProcess(join(root, dir), {
      ...env,
      WEFT_PORT: String(port),
      WEFT_PEERS: `http://127.0.0.1:${peer}`,
      WEFT_PARTITION_DIR: join(root, 'partitions'),
    });
    running.push(s);
    return s;
  }
  return { root, env, start };
}
