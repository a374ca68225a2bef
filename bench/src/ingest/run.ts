/**
 * bench:ingest — events/s for the full Weft ingest path (HTTP → ingest worker → embedded log →
 * shard index) against a bare fastify server parsing the same 100-event JSON batches, in one run.
 * See bench/README.md. Prints figures and ratios; asserts nothing about time.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startWeft } from '@weft/engine';
import { startBare } from './bare.js';
import type { ClientCommand, ClientMessage, Generated, RunCommand, RunResult } from './protocol.js';
import { type ThreadUse, threadCpu, threadUse } from './threads.js';

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
}

interface Summary {
  bareEventsPerSec?: number;
  weftAckedEventsPerSec?: number;
  weftEndToEndEventsPerSec?: number;
  ratioAcked?: number;
  ratioEndToEnd?: number;
  meetsRate?: boolean;
  meetsRatio?: boolean;
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
      const base = {
        url: weft.url,
        writeKey: weft.writeKey,
        secretKey: weft.secretKey,
        concurrency: f.concurrency,
        pipelining: f.pipelining,
      };
      let indexBase = 0;
      if (warmBodies > 0) {
        const warm = await client.run({
          ...base,
          label: 'weft warm-up',
          from: 0,
          to: warmBodies,
          indexBase: 0,
        });
        indexBase = warm.indexTotal ?? warm.eventsAccepted;
      }
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
    log(`weft:     ${f.shards} shards, fsync ${f.fsync}, fresh data dir under ${os.tmpdir()}`);

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
        round.full = await runFull(client, f, warmBodies, bodies);
        describe('weft HTTP acked', round.full, log);
        checkClean('weft', round.full.result, log);
      }
      if (round.bare !== undefined && round.full !== undefined) {
        log(
          `  ratio weft/bare    acked ${pct(round.full.ackedPerSec / round.bare.ackedPerSec)},` +
            ` HTTP → index ${pct((round.full.e2ePerSec ?? 0) / round.bare.ackedPerSec)}`,
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
