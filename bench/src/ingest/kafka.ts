/**
 * `--kafka` helpers for bench:ingest: the local services (docker/services.sh), ClickHouse over
 * HTTP, Kafka's CLI tools (JVM, ~1–2 s a call, so only outside the timed parts), and the
 * consumer-lag sampler child process (lag.ts).
 */
import { type ChildProcess, execFile, execFileSync, fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LagCommand, LagMessage, LagSample } from './protocol.js';

const execFileAsync = promisify(execFile);

export const SERVICES_SH = fileURLToPath(new URL('../../../docker/services.sh', import.meta.url));

export interface KafkaTarget {
  brokers: string;
  clickhouse: string;
}

export function kafkaTarget(env = process.env): KafkaTarget {
  return {
    brokers: env.KAFKA_BROKERS || '127.0.0.1:9092',
    clickhouse: (env.CLICKHOUSE_URL || 'http://127.0.0.1:8123').replace(/\/$/, ''),
  };
}

function brokerAnswers(brokers: string): Promise<boolean> {
  const first = brokers.split(',')[0]!.trim();
  const i = first.lastIndexOf(':');
  const host = i > 0 ? first.slice(0, i) : first;
  const port = i > 0 ? Number(first.slice(i + 1)) : 9092;
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
  });
}

async function clickhouseAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure Kafka and ClickHouse answer: when either does not, runs `docker/services.sh up`
 * (idempotent) once, then checks again. Throws with what is missing.
 */
export async function ensureServices(t: KafkaTarget, log: (line: string) => void): Promise<string> {
  const check = async (): Promise<string[]> => {
    const [k, c] = await Promise.all([brokerAnswers(t.brokers), clickhouseAnswers(t.clickhouse)]);
    return [...(k ? [] : [`Kafka at ${t.brokers}`]), ...(c ? [] : [`ClickHouse at ${t.clickhouse}`])];
  };
  const missing = await check();
  if (missing.length === 0) return 'already up';
  log(`services: ${missing.join(' and ')} not answering; running docker/services.sh up`);
  try {
    // Its stdout goes to our stderr, so that --json output stays one JSON object.
    execFileSync(SERVICES_SH, ['up'], { stdio: ['ignore', 2, 2], timeout: 15 * 60_000 });
  } catch (err) {
    throw new Error(
      `--kafka: ${missing.join(' and ')} did not answer and \`docker/services.sh up\` failed` +
        ` (${(err as Error).message.split('\n')[0]}). Start Kafka and ClickHouse, or point KAFKA_BROKERS and CLICKHOUSE_URL at running ones.`,
    );
  }
  const still = await check();
  if (still.length > 0) {
    throw new Error(
      `--kafka: ${still.join(' and ')} still not answering after \`docker/services.sh up\`.` +
        ' Check `docker/services.sh status` / `logs`, or point KAFKA_BROKERS and CLICKHOUSE_URL at running services.',
    );
  }
  return 'started by docker/services.sh up';
}

/** One ClickHouse statement over HTTP (POST body); the answer's text. */
export async function clickhouse(url: string, sql: string, timeoutMs = 30_000): Promise<string> {
  const res = await fetch(url, { method: 'POST', body: sql, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok)
    throw new Error(`ClickHouse answered ${res.status} to ${sql.slice(0, 80)}: ${text.slice(0, 300)}`);
  return text;
}

/** Rows in `<db>.events`; 0 while the table does not exist yet. */
export async function clickhouseCount(url: string, db: string, final = false): Promise<number> {
  try {
    return Number((await clickhouse(url, `SELECT count() FROM ${db}.events${final ? ' FINAL' : ''}`)).trim());
  } catch (err) {
    if (/UNKNOWN_TABLE|UNKNOWN_DATABASE|doesn't exist|does not exist/i.test((err as Error).message)) return 0;
    throw err;
  }
}

/** A Kafka CLI tool through docker/services.sh (a JVM start each: ~1–2 s). stdout + stderr. */
export async function kafkaTool(args: string[], timeoutMs = 10 * 60_000): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(SERVICES_SH, args, {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return `${stdout}\n${stderr}`;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const tail = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`docker/services.sh ${args[0]} failed: ${tail || e.message}`);
  }
}

/** Bytes the broker stores for each topic (all partitions, as on disk: compressed record batches). */
export async function topicBytes(brokers: string, topics: string[]): Promise<Map<string, number>> {
  const out = await kafkaTool([
    'kafka-run-class',
    'org.apache.kafka.tools.LogDirsCommand',
    '--bootstrap-server',
    brokers,
    '--describe',
    '--topic-list',
    topics.join(','),
  ]);
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`LogDirsCommand printed no JSON: ${out.slice(0, 300)}`);
  const parsed = JSON.parse(line) as {
    brokers: Array<{ logDirs: Array<{ partitions: Array<{ partition: string; size: number }> }> }>;
  };
  const sizes = new Map<string, number>(topics.map((t) => [t, 0]));
  for (const b of parsed.brokers)
    for (const d of b.logDirs)
      for (const p of d.partitions) {
        const topic = p.partition.replace(/-\d+$/, '');
        if (sizes.has(topic)) sizes.set(topic, sizes.get(topic)! + p.size);
      }
  return sizes;
}

export interface PerfTest {
  topic: string;
  records: number;
  recordSize: number;
  recordsPerSec: number;
  /** Payload MB/s as the tool reports it (MB = 2^20 bytes of uncompressed record values). */
  mbPerSec: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
  /** Bytes the broker stored for the run (compressed batches), and that over the tool's run time. */
  topicBytes: number;
  storedMiBPerSec: number;
  producerProps: string;
  line: string;
}

/**
 * Kafka's own producer benchmark (`kafka-producer-perf-test`, JVM) into a fresh topic with
 * `partitions` partitions, same producer settings as Weft's (acks=all, lz4, linger 5 ms).
 */
export async function producerPerfTest(
  brokers: string,
  topic: string,
  partitions: number,
  records: number,
  recordSize: number,
  maxMessageBytes: number,
): Promise<PerfTest> {
  await kafkaTool([
    'kafka-topics',
    '--bootstrap-server',
    brokers,
    '--create',
    '--topic',
    topic,
    '--partitions',
    String(partitions),
    '--config',
    `max.message.bytes=${maxMessageBytes}`,
  ]);
  const props = [
    `bootstrap.servers=${brokers}`,
    'acks=all',
    'linger.ms=5',
    'compression.type=lz4',
    'batch.size=1048576',
    `max.request.size=${maxMessageBytes}`,
    'buffer.memory=268435456',
  ];
  const out = await kafkaTool([
    'kafka-producer-perf-test',
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--command-property',
    ...props,
  ]);
  // "N records sent, X records/sec (Y MB/sec), Z ms avg latency, M ms max latency, a ms 50th, b ms 95th, c ms 99th, …"
  const line = out.split('\n').find((l) => / records sent, .* records\/sec \(/.test(l));
  const m = line?.match(
    /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.* ([\d.]+) ms 99th/,
  );
  if (!line || !m) throw new Error(`kafka-producer-perf-test printed no summary: ${out.slice(-500)}`);
  const sent = Number(m[1]);
  const recordsPerSec = Number(m[2]);
  const stored = (await topicBytes(brokers, [topic])).get(topic) ?? 0;
  return {
    topic,
    records: sent,
    recordSize,
    recordsPerSec,
    mbPerSec: Number(m[3]),
    avgLatencyMs: Number(m[4]),
    p99LatencyMs: Number(m[5]),
    topicBytes: stored,
    storedMiBPerSec: stored / 2 ** 20 / (sent / recordsPerSec),
    producerProps: props.slice(1).join(' '),
    line: line.trim(),
  };
}

/** Deletes a round's topics (by a regex over their common prefix) and its consumer group. Best effort. */
export async function dropKafkaRound(
  brokers: string,
  topicPrefix: string,
  group: string,
  log: (line: string) => void,
): Promise<void> {
  const attempts: Array<[string, string[]]> = [
    ['topics', ['kafka-topics', '--bootstrap-server', brokers, '--delete', '--topic', `${topicPrefix}.*`]],
    ['group', ['kafka-consumer-groups', '--bootstrap-server', brokers, '--delete', '--group', group]],
  ];
  for (const [what, args] of attempts) {
    try {
      await kafkaTool(args, 60_000);
    } catch (err) {
      log(`  ! cleanup of the Kafka ${what} of ${topicPrefix}: ${(err as Error).message}`);
    }
  }
}

export interface TimedLagSample extends LagSample {
  /** performance.now() (runner clock) when the sample's first request was sent. */
  at: number;
}

/** The forked consumer-lag sampler (lag.ts). */
export class LagMonitor {
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(s: TimedLagSample) => void>();
  readonly samples: TimedLagSample[] = [];
  readonly errors: string[] = [];
  private ready: Promise<void>;

  constructor(cmd: Extract<LagCommand, { type: 'start' }>) {
    this.child = fork(new URL('./lag.js', import.meta.url), [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on('message', (msg: LagMessage) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'error') reject(new Error(`lag sampler: ${msg.message}`));
        else if (msg.type === 'sample-error') this.errors.push(msg.message);
        else {
          // Both processes read the same wall clock: map the sample's start onto ours.
          const at = performance.now() - (Date.now() - msg.startedAt);
          const s: TimedLagSample = { ...msg, at };
          this.samples.push(s);
          for (const l of this.listeners) l(s);
        }
      });
      this.child.once('exit', (code) => reject(new Error(`lag sampler exited with code ${code}`)));
    });
    this.child.send(cmd);
  }

  started(): Promise<void> {
    return this.ready;
  }

  /** The next sample whose requests were sent at or after `at` (runner clock) and that satisfies `ok`. */
  waitFor(
    at: number,
    ok: (s: TimedLagSample) => boolean,
    timeoutMs: number,
  ): Promise<TimedLagSample | undefined> {
    const hit = this.samples.find((s) => s.at >= at && ok(s));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        resolve(undefined);
      }, timeoutMs);
      const l = (s: TimedLagSample): void => {
        if (s.at >= at && ok(s)) {
          clearTimeout(timer);
          this.listeners.delete(l);
          resolve(s);
        }
      };
      this.listeners.add(l);
    });
  }

  latest(): TimedLagSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  onSample(l: (s: TimedLagSample) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies LagCommand);
    setTimeout(() => this.child.kill(), 5000).unref();
  }
}
