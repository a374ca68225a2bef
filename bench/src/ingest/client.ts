/**
 * Load generator, run as a child process of run.ts so its CPU is not on the server's event loop.
 * It pre-serializes every request body once ("generate"), then posts ranges of them ("run") over
 * keep-alive undici connections with a fixed number of requests in flight.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { EVENT_NAMES, generateBodies } from './gen.js';
import type { ClientCommand, ClientMessage, RunCommand, RunResult } from './protocol.js';

let bodies: Buffer[] = [];
let batchSize = 0;

function send(msg: ClientMessage): void {
  process.send!(msg);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const QUERY = JSON.stringify({
  events: EVENT_NAMES.map((event) => ({ event })),
  metric: 'count',
  from: '2020-01-01',
  to: '2030-01-01',
  interval: 'month',
});

/** The index's event count, summed over every event name the generator uses. */
async function indexTotal(pool: Pool, secretKey: string): Promise<number> {
  const res = await pool.request({
    path: '/v1/query/events',
    method: 'POST',
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: QUERY,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`query answered ${res.statusCode}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { series: Array<{ total: number }> };
  let total = 0;
  for (const s of answer.series) total += s.total;
  return total;
}

async function run(cmd: RunCommand): Promise<RunResult> {
  const origin = new URL(cmd.url).origin;
  const pipelining = Math.max(1, cmd.pipelining);
  const connections = Math.max(1, Math.ceil(cmd.concurrency / pipelining));
  const pool = new Pool(origin, {
    connections,
    pipelining,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
  });
  const headers = { 'content-type': 'application/json', 'x-write-key': cmd.writeKey };
  const count = cmd.to - cmd.from;
  const latencies = new Float64Array(count);
  const non200: Record<string, number> = {};
  let non200Count = 0;
  let retries = 0;
  let accepted = 0;
  let rejected = 0;
  let next = cmd.from;

  const worker = async (): Promise<void> => {
    while (next < cmd.to) {
      const i = next++;
      const body = bodies[i]!;
      for (let attempt = 0; ; attempt++) {
        const t = performance.now();
        const res = await pool.request({ path: '/v1/batch', method: 'POST', headers, body });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          latencies[i - cmd.from] = performance.now() - t;
          const answer = JSON.parse(text) as { accepted: number; rejected: unknown[] };
          accepted += answer.accepted;
          rejected += answer.rejected.length;
          break;
        }
        const code = String(res.statusCode);
        non200[code] = (non200[code] ?? 0) + 1;
        non200Count++;
        if ((res.statusCode === 429 || res.statusCode === 503) && attempt < 100) {
          retries++;
          await sleep(5);
          continue;
        }
        latencies[i - cmd.from] = performance.now() - t;
        if (non200Count <= 3) process.stderr.write(`[client] ${cmd.label}: ${code} ${text.slice(0, 300)}\n`);
        break;
      }
    }
  };

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const workers: Array<Promise<void>> = [];
  for (let w = 0; w < Math.min(cmd.concurrency, count); w++) workers.push(worker());
  await Promise.all(workers);
  const httpMs = performance.now() - t0;

  const result: RunResult = {
    type: 'result',
    label: cmd.label,
    requests: count,
    eventsSent: count * batchSize,
    eventsAccepted: accepted,
    eventsRejected: rejected,
    non200,
    non200Count,
    retries,
    httpMs,
    latencyMs: { p50: 0, p99: 0, max: 0 },
    clientCpuMs: 0,
  };

  if (cmd.secretKey !== undefined) {
    const expected = (cmd.indexBase ?? 0) + accepted;
    let total = -1;
    const deadline = t0 + httpMs + 300_000;
    while (performance.now() < deadline) {
      total = await indexTotal(pool, cmd.secretKey);
      if (total >= expected) break;
      await sleep(2);
    }
    result.e2eMs = performance.now() - t0;
    result.indexTotal = total;
    result.indexExpected = expected;
  }
  const cpu = process.cpuUsage(cpu0);
  result.clientCpuMs = (cpu.user + cpu.system) / 1000;
  await pool.close();

  latencies.sort();
  result.latencyMs = {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? 0,
  };
  return result;
}

process.on('message', (cmd: ClientCommand) => {
  void (async () => {
    try {
      if (cmd.type === 'generate') {
        const t = performance.now();
        batchSize = cmd.batchSize;
        bodies = generateBodies(
          { seed: cmd.seed, users: cmd.users, now: cmd.now },
          cmd.bodies,
          cmd.batchSize,
        );
        let bytes = 0;
        for (const b of bodies) bytes += b.length;
        send({
          type: 'generated',
          bodies: bodies.length,
          events: bodies.length * batchSize,
          bytes,
          ms: performance.now() - t,
        });
      } else if (cmd.type === 'run') {
        send(await run(cmd));
      } else {
        process.disconnect();
      }
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});
