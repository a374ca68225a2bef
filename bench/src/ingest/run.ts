/**
 * bench:ingest — events/s for the full Weft ingest path (HTTP → ingest worker → embedded log →
 * shard index) against a bare fastify server parsing the same 100-event JSON batches, in one run.
 * See bench/README.md. Prints figures and ratios; asserts nothing about time.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startWeft } from '@weft/engine';
import { startBare } from './bare.js';
import {
  clickhouse,
  clickhouseCount,
  dropKafkaRound,
  ensureServices,
  type KafkaTarget,
  kafkaTarget,
  LagMonitor,
  type PerfTest,
  producerPerfTest,
  type TimedLagSample,
  topicBytes,
} from './kafka.js';
import type { ClientCommand, ClientMessage, Generated, RunCommand, RunResult } from './protocol.js';
import { type ThreadSample, type ThreadUse, threadCpu, threadNames, threadUse } from './threads.js';

const USAGE = `usage: npm run bench:ingest -- [flags]
  --events N        measured events per target (default 2000000)
  --warmup N        warm-up events per target, sent before the measured ones (default 200000)
  --batch N         events per request body (default 100)
  --concurrency N   requests in flight (default 64)
  --pipelining N    HTTP/1.1 pipelining depth per connection (default 1; connections = concurrency / pipelining)
  --shards N        Weft index shards (default 2)
  --fsync P         always | interval | none (default interval)
  --target T        both | full | bare (default both)
  --rounds N        repeat bare + full N times, each on a fresh server and data dir (default 1)
  --users N         distinct users in the generated events (default 100000)
  --seed N          generator seed (default 42)
  --host H          listen address of both servers (default 127.0.0.1)
  --kafka           the full target runs in Kafka + ClickHouse mode (KAFKA_BROKERS, CLICKHOUSE_URL or
                    127.0.0.1:9092 / http://127.0.0.1:8123; docker/services.sh up when they do not answer),
                    and Kafka's kafka-producer-perf-test runs as the ceiling
  --json            print one JSON object instead of the report
  --help`;

interface Flags {
  events: number;
  warmup: number;
  batch: number;
  concurrency: number;
  pipelining: number;
  shards: number;
  fsync: 'always' | 'interval' | 'none';
  target: 'both' | 'full' | 'bare';
  rounds: number;
  users: number;
  seed: number;
  host: string;
  kafka: boolean;
  json: boolean;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '2000000' },
      warmup: { type: 'string', default: '200000' },
      batch: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '64' },
      pipelining: { type: 'string', default: '1' },
      shards: { type: 'string', default: '2' },
      fsync: { type: 'string', default: 'interval' },
      target: { type: 'string', default: 'both' },
      rounds: { type: 'string', default: '1' },
      users: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '42' },
      host: { type: 'string', default: '127.0.0.1' },
      kafka: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}`);
    return n;
  };
  const fsync = values.fsync;
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'none') {
    throw new Error('--fsync: expected always, interval or none');
  }
  const target = values.target;
  if (target !== 'both' && target !== 'full' && target !== 'bare') {
    throw new Error('--target: expected both, full or bare');
  }
  return {
    events: int('events', 1),
    warmup: int('warmup', 0),
    batch: int('batch', 1),
    concurrency: int('concurrency', 1),
    pipelining: int('pipelining', 1),
    shards: int('shards', 1),
    fsync,
    target,
    rounds: int('rounds', 1),
    users: int('users', 1),
    seed: int('seed', 0),
    host: values.host,
    kafka: values.kafka,
    json: values.json,
  };
}

/** The forked load generator, driven by request/answer messages. */
class Client {
  private waiting: ((msg: ClientMessage) => void) | undefined;
  private readonly child: ChildProcess;

  constructor() {
    this.child = fork(new URL('./client.js', import.meta.url), [], {
      // Not the runner's flags: a --cpu-prof on the runner should profile the server only.
      execArgv: ['--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (msg: ClientMessage) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(msg);
    });
    this.child.on('exit', (code) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ type: 'error', message: `load generator exited with code ${code}` });
    });
  }

  private async ask(cmd: ClientCommand): Promise<ClientMessage> {
    const answer = new Promise<ClientMessage>((resolve) => {
      this.waiting = resolve;
    });
    this.child.send(cmd);
    const msg = await answer;
    if (msg.type === 'error') throw new Error(`load generator: ${msg.message}`);
    return msg;
  }

  async generate(cmd: ClientCommand & { type: 'generate' }): Promise<Generated> {
    return (await this.ask(cmd)) as Generated;
  }

  async run(cmd: Omit<RunCommand, 'type'>): Promise<RunResult> {
    return (await this.ask({ type: 'run', ...cmd })) as RunResult;
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' });
    this.child.kill();
  }
}

interface Phase {
  /** Measured run as the client saw it. */
  result: RunResult;
  /** CPU of the server process (all its threads) during the measured run, in ms. */
  serverCpuMs: number;
  /** The same, per thread (Linux only; empty elsewhere). */
  threads: ThreadUse[];
  ackedPerSec: number;
  e2ePerSec?: number;
  serverAccepted?: number;
  /** With --kafka: the Kafka + ClickHouse side of the run. */
  kafka?: KafkaPhase;
}

/** One row of the lag table: seconds since the measured run's first request. */
interface LagRow {
  t: number;
  /** Events Weft acknowledged in the measured run so far. */
  acked: number;
  /** Rows ClickHouse had counted in the measured run so far (last 250 ms poll). */
  clickhouse: number;
  /** Σ over partitions of high watermark − committed offset, in Kafka messages. */
  lag: number;
}

interface KafkaPhase {
  brokers: string;
  clickhouseUrl: string;
  topic: string;
  group: string;
  database: string;
  /** Warm-up: time from its last ack until ClickHouse had every row and the lag was 0. */
  warmSettleMs?: number;
  /** First request → `SELECT count()` reached the expected rows (polled every 250 ms). */
  clickhouseMs?: number;
  clickhousePerSec?: number;
  /** Rows counted when the measured run started (the warm-up's), the last count, and base + accepted. */
  clickhouseBase: number;
  clickhouseRows: number;
  clickhouseExpected: number;
  /** count() … FINAL once everything settled (duplicates merged). */
  clickhouseRowsFinal?: number;
  /** Last ack → first lag sample (started after it) that saw lag 0, to the end of that sample. */
  lagZeroAfterLastAckMs?: number;
  maxLag: number;
  lagAtLastAck?: number;
  lagSamples: number;
  lagSampleMs: number;
  lagSampleErrors: string[];
  rows: LagRow[];
  /** Kafka records (messages) and stored bytes Weft produced in the measured run. */
  records: number;
  storedBytes: number;
  perf?: PerfTest;
  perfError?: string;
}

interface Summary {
  bareEventsPerSec?: number;
  weftAckedEventsPerSec?: number;
  weftEndToEndEventsPerSec?: number;
  ratioAcked?: number;
  ratioEndToEnd?: number;
  meetsRate?: boolean;
  meetsRatio?: boolean;
  /** With --kafka. */
  weftClickHouseEventsPerSec?: number;
  lagZeroSeconds?: number;
  perfRecordsPerSec?: number;
  perfMiBPerSec?: number;
  meetsKafkaRate?: boolean;
  meetsKafkaLag?: boolean;
}

interface Round {
  bare?: Phase;
  full?: Phase;
}

async function measure(
  client: Client,
  cmd: Omit<RunCommand, 'type'>,
  named: Map<number, string>,
): Promise<Phase> {
  const threads0 = threadCpu();
  const cpu0 = process.cpuUsage();
  const result = await client.run(cmd);
  const cpu = process.cpuUsage(cpu0);
  const threads1 = threadCpu();
  const phase: Phase = {
    result,
    serverCpuMs: (cpu.user + cpu.system) / 1000,
    threads: threads1.size > 0 ? threadUse(threads0, threads1, named) : [],
    ackedPerSec: result.eventsAccepted / (result.httpMs / 1000),
  };
  if (result.e2eMs !== undefined) phase.e2ePerSec = result.eventsAccepted / (result.e2eMs / 1000);
  return phase;
}

function checkClean(label: string, r: RunResult, log: (line: string) => void): void {
  if (r.non200Count > 0) log(`  ! ${label}: ${r.non200Count} non-200 answers ${JSON.stringify(r.non200)}`);
  if (r.eventsRejected > 0) log(`  ! ${label}: ${r.eventsRejected} events rejected`);
  if (r.eventsAccepted !== r.eventsSent) log(`  ! ${label}: accepted ${r.eventsAccepted} of ${r.eventsSent}`);
  if (r.indexExpected !== undefined && r.indexTotal !== r.indexExpected) {
    log(`  ! ${label}: index counted ${r.indexTotal}, expected ${r.indexExpected}`);
  }
}

async function runBare(client: Client, f: Flags, warmBodies: number, bodies: number): Promise<Phase> {
  const server = await startBare(f.host, 5 * 1024 * 1024);
  try {
    const base = { url: server.url, writeKey: 'bare', concurrency: f.concurrency, pipelining: f.pipelining };
    if (warmBodies > 0) await client.run({ ...base, label: 'bare warm-up', from: 0, to: warmBodies });
    return await measure(
      client,
      { ...base, label: 'bare', from: warmBodies, to: warmBodies + bodies },
      new Map([[process.pid, 'main (HTTP)']]),
    );
  } finally {
    await server.close();
  }
}

/** The load settings for a running Weft, and the warm-up run on it (none when warmBodies is 0). */
async function warmUp(
  client: Client,
  weft: { url: string; writeKey: string; secretKey: string },
  f: Flags,
  warmBodies: number,
) {
  const base = {
    url: weft.url,
    writeKey: weft.writeKey,
    secretKey: weft.secretKey,
    concurrency: f.concurrency,
    pipelining: f.pipelining,
  };
  const warm =
    warmBodies > 0
      ? await client.run({ ...base, label: 'weft warm-up', from: 0, to: warmBodies, indexBase: 0 })
      : undefined;
  return { base, warm };
}

async function runFull(client: Client, f: Flags, warmBodies: number, bodies: number): Promise<Phase> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'weft-bench-'));
  try {
    const before = threadCpu();
    const weft = await startWeft({
      dataDir,
      host: f.host,
      port: 0,
      shards: f.shards,
      fsync: f.fsync,
      logLevel: 'silent',
    });
    // The engine starts its shard workers first, then the ingest worker: one OS thread each.
    const named = new Map([[process.pid, 'main (HTTP)']]);
    const started = [...threadCpu().keys()].filter((tid) => !before.has(tid)).sort((a, b) => a - b);
    if (before.size > 0 && started.length === f.shards + 1) {
      for (const [i, tid] of started.entries()) named.set(tid, i < f.shards ? `shard ${i}` : 'ingest worker');
    } else {
      for (const tid of started) named.set(tid, `thread ${tid}`);
    }
    try {
      const { base, warm } = await warmUp(client, weft, f, warmBodies);
      const indexBase = warm ? (warm.indexTotal ?? warm.eventsAccepted) : 0;
      const phase = await measure(
        client,
        {
          ...base,
          label: 'weft',
          from: warmBodies,
          to: warmBodies + bodies,
          indexBase,
        },
        named,
      );
      phase.serverAccepted = weft.engine.stats.eventsAccepted;
      return phase;
    } finally {
      await weft.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Names the threads the engine started: worker threads are `node`, librdkafka's are `rdk:…`.
 * In Kafka mode Engine.start spawns the ingest worker first, then a shard worker per assigned
 * partition (in partition order).
 */
function nameKafkaThreads(
  before: Map<number, ThreadSample>,
  after: Map<number, ThreadSample>,
  shards: number,
): Map<number, string> {
  const named = new Map([[process.pid, 'main (HTTP)']]);
  if (before.size === 0) return named;
  const fresh = [...after.keys()].filter((tid) => !before.has(tid)).sort((a, b) => a - b);
  const comms = threadNames(fresh);
  const workers: number[] = [];
  for (const tid of fresh) {
    if (comms.get(tid)?.startsWith('rdk:')) named.set(tid, 'librdkafka');
    else workers.push(tid);
  }
  if (workers.length === shards + 1) {
    for (const [i, tid] of workers.entries()) named.set(tid, i === 0 ? 'ingest worker' : `shard ${i - 1}`);
  } else {
    for (const tid of workers) named.set(tid, `thread ${tid}`);
  }
  return named;
}

/** Polls `SELECT count() FROM db.events` every 250 ms in the background. */
class ClickHousePoller {
  /** performance.now() when each answer arrived, and the count. */
  readonly polls: Array<{ at: number; rows: number }> = [];
  errors = 0;
  lastError = '';
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly db: string,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const t = performance.now();
      try {
        const rows = await clickhouseCount(this.url, this.db);
        this.polls.push({ at: performance.now(), rows });
      } catch (err) {
        this.errors++;
        this.lastError = (err as Error).message;
      }
      await sleep(Math.max(0, 250 - (performance.now() - t)));
    }
  }

  latest(): number {
    return this.polls[this.polls.length - 1]?.rows ?? 0;
  }

  /** The last count answered by `t` (performance.now()). */
  at(t: number): number {
    let rows = 0;
    for (const p of this.polls) {
      if (p.at > t) break;
      rows = p.rows;
    }
    return rows;
  }

  /** The first answer at or after `since` that counted at least `rows`, waiting up to `timeoutMs`. */
  async reach(
    rows: number,
    since: number,
    timeoutMs: number,
  ): Promise<{ at: number; rows: number } | undefined> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.polls.find((p) => p.at >= since && p.rows >= rows);
      if (hit) return hit;
      if (performance.now() > until) return undefined;
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** MiB of Kafka record batches Weft's records may reach (MAX_MESSAGE_BYTES + 64 KiB, as Weft sets on its topic). */
const KAFKA_MAX_MESSAGE_BYTES = 8 * 1024 * 1024 + 65536;
/** The producer perf test moves at least this much, so the JVM's start does not dominate. */
const PERF_MIN_BYTES = 128 * 2 ** 20;

async function runFullKafka(
  client: Client,
  f: Flags,
  target: KafkaTarget,
  warmBodies: number,
  bodies: number,
  log: (line: string) => void,
): Promise<Phase> {
  const tag = randomBytes(4).toString('hex');
  const topic = `weft-bench-${tag}`;
  const group = `weft-bench-${tag}`;
  const database = `weft_bench_${tag}`;
  const k: KafkaPhase = {
    brokers: target.brokers,
    clickhouseUrl: target.clickhouse,
    topic,
    group,
    database,
    clickhouseBase: 0,
    clickhouseRows: 0,
    clickhouseExpected: 0,
    maxLag: 0,
    lagSamples: 0,
    lagSampleMs: 0,
    lagSampleErrors: [],
    rows: [],
    records: 0,
    storedBytes: 0,
  };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'weft-bench-'));
  let lag: LagMonitor | undefined;
  try {
    const before = threadCpu();
    const weft = await startWeft(
      { dataDir, host: f.host, port: 0, shards: f.shards, fsync: f.fsync, logLevel: 'silent' },
      {
        ...process.env,
        KAFKA_BROKERS: target.brokers,
        KAFKA_TOPIC: topic,
        KAFKA_GROUP: group,
        CLICKHOUSE_URL: target.clickhouse,
        CLICKHOUSE_DATABASE: database,
        WEFT_SHARDS: String(f.shards),
      },
    );
    let phase: Phase;
    try {
      // The shards start when the group assigns the partitions (one member: all of them).
      const assignBy = performance.now() + 60_000;
      while (weft.engine.ownedPartitions.length < f.shards) {
        if (performance.now() > assignBy)
          throw new Error(
            `--kafka: the consumer group was assigned ${weft.engine.ownedPartitions.length} of ${f.shards} partitions after 60 s`,
          );
        await sleep(20);
      }
      const named = nameKafkaThreads(before, threadCpu(), f.shards);
      lag = new LagMonitor({
        type: 'start',
        brokers: target.brokers,
        topic,
        group,
        partitions: f.shards,
        intervalMs: 500,
      });
      await lag.started();
      const { base, warm } = await warmUp(client, weft, f, warmBodies);
      const indexBase = warm ? (warm.indexTotal ?? warm.eventsAccepted) : 0;
      if (warm) {
        // No backlog may spill into the measurement: ClickHouse has the rows and the group has committed.
        const t = performance.now();
        const [ch, zero] = await Promise.all([
          (async () => {
            for (const until = t + 120_000; performance.now() < until; await sleep(250))
              if ((await clickhouseCount(target.clickhouse, database)) >= warm.eventsAccepted) return true;
            return false;
          })(),
          lag.waitFor(t, (s) => s.lag === 0, 120_000),
        ]);
        if (!ch || !zero)
          log('  ! warm-up backlog did not settle within 120 s (ClickHouse rows or consumer lag)');
        else k.warmSettleMs = performance.now() - t;
      }
      const bytesBefore = (await topicBytes(target.brokers, [topic])).get(topic) ?? 0;
      const latestBefore = await lag.waitFor(performance.now(), () => true, 10_000);
      const highBefore = latestBefore?.high ?? 0;
      const chBase = await clickhouseCount(target.clickhouse, database);
      k.clickhouseBase = chBase;
      const ackedBase = weft.engine.stats.eventsAccepted;

      const poller = new ClickHousePoller(target.clickhouse, database);
      const runStart = performance.now();
      const stopRows = lag.onSample((s: TimedLagSample) => {
        k.rows.push({
          t: (s.at - runStart) / 1000,
          acked: weft.engine.stats.eventsAccepted - ackedBase,
          clickhouse: Math.max(0, poller.at(s.at + s.ms) - chBase),
          lag: s.lag,
        });
      });
      try {
        phase = await measure(
          client,
          { ...base, label: 'weft', from: warmBodies, to: warmBodies + bodies, indexBase },
          named,
        );
        phase.serverAccepted = weft.engine.stats.eventsAccepted;
        const r = phase.result;
        const lastAck = runStart + r.httpMs;
        k.clickhouseExpected = chBase + r.eventsAccepted;
        const [chHit, zero] = await Promise.all([
          poller.reach(k.clickhouseExpected, runStart, 120_000),
          lag.waitFor(lastAck, (s) => s.lag === 0, 120_000),
        ]);
        if (chHit) {
          k.clickhouseMs = chHit.at - runStart;
          k.clickhousePerSec = r.eventsAccepted / (k.clickhouseMs / 1000);
        }
        if (zero) k.lagZeroAfterLastAckMs = zero.at + zero.ms - lastAck;
        // One more lag sample, so the table shows the settled state.
        await lag.waitFor(performance.now(), () => true, 5000);
        k.clickhouseRows = poller.latest();
        const atAck = lag.samples.filter((s) => s.at <= lastAck).pop();
        k.lagAtLastAck = atAck?.lag;
      } finally {
        stopRows();
        await poller.stop();
        if (poller.errors > 0) log(`  ! ${poller.errors} ClickHouse count polls failed: ${poller.lastError}`);
      }
      const measured = lag.samples.filter((s) => s.at >= runStart);
      k.maxLag = Math.max(0, ...measured.map((s) => s.lag));
      k.lagSamples = measured.length;
      k.lagSampleMs = measured.reduce((a, s) => a + s.ms, 0) / Math.max(1, measured.length);
      k.lagSampleErrors = [...new Set(lag.errors)].slice(0, 3);
      k.records = (lag.latest()?.high ?? highBefore) - highBefore;
      k.storedBytes = ((await topicBytes(target.brokers, [topic])).get(topic) ?? 0) - bytesBefore;
      try {
        k.clickhouseRowsFinal = Number(
          (
            await clickhouse(target.clickhouse, `SELECT count() FROM ${database}.events FINAL`, 120_000)
          ).trim(),
        );
      } catch (err) {
        log(`  ! count() FINAL failed: ${(err as Error).message}`);
      }
    } finally {
      lag?.close();
      await weft.close();
    }
    // The ceiling: Kafka's own producer, alone on the machine (Weft is stopped), records of Weft's size.
    if (k.records > 0) {
      const size = Math.min(
        KAFKA_MAX_MESSAGE_BYTES - 1024,
        Math.max(100, Math.round(k.storedBytes / k.records)),
      );
      const records = Math.max(k.records, Math.ceil(PERF_MIN_BYTES / size));
      try {
        k.perf = await producerPerfTest(
          target.brokers,
          `${topic}-perf`,
          f.shards,
          records,
          size,
          KAFKA_MAX_MESSAGE_BYTES,
        );
      } catch (err) {
        k.perfError = (err as Error).message;
      }
    } else k.perfError = 'no Kafka records counted for the measured run';
    phase.kafka = k;
    return phase;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    try {
      await clickhouse(target.clickhouse, `DROP DATABASE IF EXISTS ${database}`);
    } catch (err) {
      log(`  ! dropping ClickHouse database ${database}: ${(err as Error).message}`);
    }
    await dropKafkaRound(target.brokers, topic, group, log);
  }
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number): string => `${fmtInt(n).padStart(9)} events/s`;
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function describe(label: string, p: Phase, log: (line: string) => void): void {
  const r = p.result;
  const secs = r.httpMs / 1000;
  log(
    `  ${label.padEnd(18)} ${fmtRate(p.ackedPerSec)}   ${fmtInt(r.eventsAccepted)} events in ${secs.toFixed(2)} s;` +
      ` latency p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms;` +
      ` server CPU ${(p.serverCpuMs / r.httpMs).toFixed(2)} cores (${((p.serverCpuMs * 1000) / Math.max(1, r.eventsAccepted)).toFixed(2)} µs/event),` +
      ` client CPU ${(r.clientCpuMs / r.httpMs).toFixed(2)} cores`,
  );
  if (p.threads.length > 0) {
    const parts = p.threads.map(
      (t) => `${t.name} ${(t.cpuMs / r.httpMs).toFixed(2)} (${(t.waitMs / r.httpMs).toFixed(2)})`,
    );
    log(
      `  ${''.padEnd(18)} server threads, share of wall time on CPU (waiting for a CPU): ${parts.join(' · ')}`,
    );
  }
  if (p.e2ePerSec !== undefined && r.e2eMs !== undefined) {
    log(
      `  ${'weft HTTP → index'.padEnd(18)} ${fmtRate(p.e2ePerSec)}   index reached ${fmtInt(r.indexTotal ?? 0)} events` +
        ` ${(r.e2eMs / 1000).toFixed(2)} s after the first request (index lag at last ack ${(r.e2eMs - r.httpMs).toFixed(0)} ms)`,
    );
  }
}

const fmtSecs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function describeKafka(p: Phase, log: (line: string) => void): void {
  const k = p.kafka;
  if (!k) return;
  const r = p.result;
  const label = (s: string): string => `  ${s.padEnd(18)}`;
  if (k.clickhousePerSec !== undefined && k.clickhouseMs !== undefined) {
    log(
      `${label('weft HTTP → CH')} ${fmtRate(k.clickhousePerSec)}   ClickHouse counted ${fmtInt(k.clickhouseRows - k.clickhouseBase)} rows` +
        ` ${fmtSecs(k.clickhouseMs)} after the first request (${fmtSecs(k.clickhouseMs - r.httpMs)} after the last ack;` +
        ` polled every 250 ms); count() FINAL ${k.clickhouseRowsFinal === undefined ? '?' : fmtInt(k.clickhouseRowsFinal)} incl. ${fmtInt(k.clickhouseBase)} warm-up`,
    );
  } else {
    log(
      `  ! ClickHouse did not reach ${fmtInt(k.clickhouseExpected)} rows within 120 s of the last ack (last count ${fmtInt(k.clickhouseRows)})`,
    );
  }
  if (k.clickhouseRowsFinal !== undefined && k.clickhouseRowsFinal !== k.clickhouseExpected)
    log(
      `  ! ClickHouse count() FINAL ${fmtInt(k.clickhouseRowsFinal)}, expected ${fmtInt(k.clickhouseExpected)}`,
    );
  const zero =
    k.lagZeroAfterLastAckMs === undefined
      ? 'NOT back to 0 within 120 s after the last ack'
      : `back to 0 ${fmtSecs(k.lagZeroAfterLastAckMs)} after the last ack`;
  log(
    `${label('consumer lag')} ${zero}; max ${fmtInt(k.maxLag)} messages, ${k.lagAtLastAck === undefined ? '?' : fmtInt(k.lagAtLastAck)} at the last ack` +
      ` (group ${k.group}: Σ partitions high watermark − committed offset; ${k.lagSamples} samples every 0.5 s, ~${k.lagSampleMs.toFixed(0)} ms each)`,
  );
  for (const e of k.lagSampleErrors) log(`  ! lag sample failed: ${e}`);
  if (k.rows.length > 0) {
    log(`  ${''.padEnd(18)}      t    acked events   in ClickHouse   lag (messages)`);
    const every = Math.max(1, Math.ceil(k.rows.length / 30));
    k.rows.forEach((row, i) => {
      const firstZeroAfter = row.lag === 0 && i > 0 && k.rows[i - 1]!.lag > 0;
      if (i % every !== 0 && i !== k.rows.length - 1 && !firstZeroAfter) return;
      log(
        `  ${''.padEnd(18)} ${row.t.toFixed(1).padStart(6)} s ${fmtInt(row.acked).padStart(14)} ${fmtInt(row.clickhouse).padStart(15)} ${fmtInt(row.lag).padStart(16)}`,
      );
    });
  }
  const httpSecs = r.httpMs / 1000;
  const eventsPerRecord = k.records > 0 ? r.eventsAccepted / k.records : 0;
  const bytesPerRecord = k.records > 0 ? k.storedBytes / k.records : 0;
  const weftMiBs = k.storedBytes / 2 ** 20 / httpSecs;
  log(
    `${label('weft → Kafka')} ${fmtInt(k.records / httpSecs).padStart(9)} records/s   ${fmtInt(k.records)} records,` +
      ` ${eventsPerRecord.toFixed(0)} events and ${fmtInt(bytesPerRecord)} B stored (lz4) per record;` +
      ` ${weftMiBs.toFixed(1)} MiB/s stored over the HTTP time (${(k.storedBytes / Math.max(1, r.eventsAccepted)) | 0} B/event)`,
  );
  if (k.perf) {
    const perf = k.perf;
    log(
      `${label('Kafka perf-test')} ${fmtInt(perf.recordsPerSec).padStart(9)} records/s   ${perf.mbPerSec.toFixed(1)} MB/s payload,` +
        ` ${perf.storedMiBPerSec.toFixed(1)} MiB/s stored; ${fmtInt(perf.records)} records × ${fmtInt(perf.recordSize)} B,` +
        ` avg latency ${perf.avgLatencyMs.toFixed(0)} ms, p99 ${perf.p99LatencyMs.toFixed(0)} ms (${perf.producerProps})`,
    );
    const ceiling = perf.recordsPerSec * eventsPerRecord;
    log(
      `${label('weft/perf-test')} stored MiB/s ${pct(weftMiBs / perf.storedMiBPerSec)};` +
        ` in events (perf-test records/s × ${eventsPerRecord.toFixed(0)} events/record = ${fmtInt(ceiling)} events/s):` +
        ` HTTP acked ${pct(p.ackedPerSec / ceiling)}, HTTP → CH ${pct((k.clickhousePerSec ?? 0) / ceiling)}`,
    );
  } else {
    log(`  ! kafka-producer-perf-test: ${k.perfError ?? 'not run'}`);
  }
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2));
  const lines: string[] = [];
  const log = (line: string): void => {
    if (f.json) lines.push(line);
    else console.log(line);
  };
  const warmBodies = Math.ceil(f.warmup / f.batch);
  const bodies = Math.ceil(f.events / f.batch);
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    node: process.version,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
  const command = ['node', ...process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a)].join(
    ' ',
  );
  log('weft bench:ingest');
  log(`command:  ${command}`);
  log(
    `machine:  ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB, ${machine.platform}, node ${machine.node}`,
  );

  log(`load avg: ${machine.loadAverage.join(' ')} at start (1, 5, 15 min)`);
  if (machine.loadAverage[0]! > 0.5 * machine.cpus) {
    log(
      '  ! other processes are busy on this machine: figures will be low and noisy; the ratio is more robust',
    );
  }
  const client = new Client();
  const cleanup = (): void => client.close();
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const rounds: Round[] = [];
  let generated: Generated;
  try {
    generated = await client.generate({
      type: 'generate',
      seed: f.seed,
      users: f.users,
      now: Date.now(),
      bodies: warmBodies + bodies,
      batchSize: f.batch,
    });
    log(
      `load:     ${fmtInt(bodies * f.batch)} events (+${fmtInt(warmBodies * f.batch)} warm-up) per target,` +
        ` ${f.batch}-event JSON bodies, avg ${(generated.bytes / generated.events).toFixed(0)} B/event,` +
        ` ${(generated.bytes / 2 ** 20).toFixed(0)} MiB pre-serialized in ${(generated.ms / 1000).toFixed(1)} s;` +
        ` ${f.users} users, seed ${f.seed}`,
    );
    log(
      `client:   separate process, undici, ${f.concurrency} in flight` +
        ` (${Math.ceil(f.concurrency / f.pipelining)} connections × pipelining ${f.pipelining})`,
    );
    let target: KafkaTarget | undefined;
    if (f.kafka && f.target !== 'bare') {
      target = kafkaTarget();
      const how = await ensureServices(target, log);
      log(
        `weft:     Kafka mode: ${f.shards} partitions = shards, brokers ${target.brokers}, ClickHouse ${target.clickhouse} (${how});` +
          ` fresh topic + group weft-bench-<random> and database weft_bench_<random> per round, dropped afterwards`,
      );
    } else {
      log(`weft:     ${f.shards} shards, fsync ${f.fsync}, fresh data dir under ${os.tmpdir()}`);
    }

    for (let i = 0; i < f.rounds; i++) {
      log('');
      log(`round ${i + 1}/${f.rounds}`);
      const round: Round = {};
      if (f.target !== 'full') {
        round.bare = await runBare(client, f, warmBodies, bodies);
        describe('bare fastify', round.bare, log);
        checkClean('bare', round.bare.result, log);
      }
      if (f.target !== 'bare') {
        round.full = target
          ? await runFullKafka(client, f, target, warmBodies, bodies, log)
          : await runFull(client, f, warmBodies, bodies);
        describe('weft HTTP acked', round.full, log);
        checkClean('weft', round.full.result, log);
        describeKafka(round.full, log);
      }
      if (round.bare !== undefined && round.full !== undefined) {
        log(
          `  ratio weft/bare    acked ${pct(round.full.ackedPerSec / round.bare.ackedPerSec)},` +
            ` HTTP → index ${pct((round.full.e2ePerSec ?? 0) / round.bare.ackedPerSec)}` +
            (round.full.kafka
              ? `, HTTP → CH ${pct((round.full.kafka.clickhousePerSec ?? 0) / round.bare.ackedPerSec)}`
              : ''),
        );
      }
      rounds.push(round);
    }
  } finally {
    cleanup();
  }

  const bareRates = rounds.flatMap((r) => (r.bare ? [r.bare.ackedPerSec] : []));
  const ackedRates = rounds.flatMap((r) => (r.full ? [r.full.ackedPerSec] : []));
  const e2eRates = rounds.flatMap((r) => (r.full?.e2ePerSec !== undefined ? [r.full.e2ePerSec] : []));
  const summary: Summary = {};
  log('');
  log(`summary (median of ${f.rounds} round${f.rounds > 1 ? 's' : ''})`);
  const bare = bareRates.length > 0 ? median(bareRates) : undefined;
  const ratio = (x: number): string => (bare === undefined ? '' : `   ${pct(x / bare)} of bare`);
  if (bare !== undefined) {
    summary.bareEventsPerSec = bare;
    log(`  bare fastify       ${fmtRate(bare)}`);
  }
  if (ackedRates.length > 0) {
    const acked = median(ackedRates);
    const e2e = median(e2eRates);
    summary.weftAckedEventsPerSec = acked;
    summary.weftEndToEndEventsPerSec = e2e;
    log(`  weft HTTP acked    ${fmtRate(acked)}${ratio(acked)}`);
    log(`  weft HTTP → index  ${fmtRate(e2e)}${ratio(e2e)}`);
  }
  if (ackedRates.length > 0 && f.kafka) {
    const kafka = rounds.flatMap((r) => (r.full?.kafka ? [r.full.kafka] : []));
    // A round that never reached the total counts as 0 events/s, one whose lag never got back to 0 as never.
    const ch = median(kafka.map((k) => k.clickhousePerSec ?? 0));
    const lagZero = median(kafka.map((k) => k.lagZeroAfterLastAckMs ?? Number.POSITIVE_INFINITY));
    summary.weftClickHouseEventsPerSec = ch;
    summary.lagZeroSeconds = Number.isFinite(lagZero) ? lagZero / 1000 : undefined;
    log(`  weft HTTP → CH     ${fmtRate(ch)}${ratio(ch)}`);
    log(
      `  consumer lag       back to 0 ${Number.isFinite(lagZero) ? fmtSecs(lagZero) : 'never (120 s)'} after the last ack`,
    );
    const perfs = kafka.flatMap((k) => (k.perf ? [k.perf] : []));
    if (perfs.length > 0) {
      summary.perfRecordsPerSec = median(perfs.map((x) => x.recordsPerSec));
      summary.perfMiBPerSec = median(perfs.map((x) => x.storedMiBPerSec));
      log(
        `  Kafka perf-test    ${fmtInt(summary.perfRecordsPerSec).padStart(9)} records/s   ${summary.perfMiBPerSec.toFixed(1)} MiB/s stored`,
      );
    }
    // "Sustained" is read as the slower end of the path: everything acked is in ClickHouse and the index.
    const sustained = Math.min(ch, median(e2eRates));
    if (bare !== undefined) {
      summary.ratioAcked = median(ackedRates) / bare;
      summary.ratioEndToEnd = median(e2eRates) / bare;
    }
    summary.meetsKafkaRate = sustained >= 150_000;
    summary.meetsKafkaLag = Number.isFinite(lagZero) && lagZero <= 5000;
    log(
      `  budget (DESIGN §9, Kafka + ClickHouse): ≥ 150,000 events/s sustained (min of HTTP → index, HTTP → CH: ${fmtInt(sustained)}):` +
        ` ${summary.meetsKafkaRate ? 'met' : 'NOT met'}; lag back to 0 within 5 s after load stops: ${summary.meetsKafkaLag ? 'met' : 'NOT met'}`,
    );
  } else if (ackedRates.length > 0) {
    const e2e = median(e2eRates);
    const acked = median(ackedRates);
    summary.meetsRate = e2e >= 300_000;
    let budget = `  budget (DESIGN §9): HTTP → index ≥ 300,000 events/s: ${summary.meetsRate ? 'met' : 'NOT met'}`;
    if (bare !== undefined) {
      summary.ratioAcked = acked / bare;
      summary.ratioEndToEnd = e2e / bare;
      summary.meetsRatio = summary.ratioEndToEnd >= 0.7;
      budget += `; ≥ 70% of bare: ${summary.meetsRatio ? 'met' : 'NOT met'}`;
    }
    log(budget);
  }

  if (f.json) {
    console.log(
      JSON.stringify(
        {
          command,
          machine,
          flags: f,
          load: {
            events: bodies * f.batch,
            warmupEvents: warmBodies * f.batch,
            bytesPerEvent: generated.bytes / generated.events,
          },
          rounds,
          summary,
          report: lines,
        },
        null,
        2,
      ),
    );
  }
}

const started = performance.now();
main().then(
  () => {
    if (!process.argv.includes('--json'))
      console.log(`(took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
