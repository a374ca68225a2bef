import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '@weft/core';
import { type RunningWeft, startWeft } from '@weft/engine';

/**
 * Decide benchmark (DESIGN §9): a server with --users users (profiles, purchases, tags,
 * realtime segments), then
 *   1. k6 against POST /v1/decide with a realistic mix of checks (budget ≥ 30k req/s, p99 ≤ 5 ms);
 *   2. event → membership latency under --rate events/s of background ingest (probes start after
 *      its first second), measured from sending a qualifying event to its entry arriving on the
 *      change feed (budget p99 ≤ 100 ms);
 *   3. the time of an estimate of a 3-clause definition over all users.
 * It prints figures and asserts nothing about time.
 *
 *   node bench/dist/decide/run.js [--users N] [--shards N] [--duration 30s] [--vus N] [--rate N]
 */
interface Flags {
  users: number;
  shards: number;
  duration: string;
  vus: number;
  rate: number;
  seconds: number;
}

function flags(argv: string[]): Flags {
  const f: Flags = { users: 2_000_000, shards: 2, duration: '30s', vus: 64, rate: 50_000, seconds: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '') as keyof Flags;
    const value = argv[i + 1]!;
    if (!(key in f)) throw new Error(`unknown flag --${key}`);
    (f as unknown as Record<string, string | number>)[key] = key === 'duration' ? value : Number(value);
  }
  return f;
}

const DAY = 86_400_000;
const PLANS = ['free', 'pro', 'team'];
const COUNTRIES = ['cn', 'us', 'de', 'jp', 'br', 'in'];

async function post(weft: RunningWeft, path: string, body: unknown, key: 'write' | 'secret' = 'secret') {
  const auth: Record<string, string> =
    key === 'write' ? { 'x-write-key': weft.writeKey } : { authorization: `Bearer ${weft.secretKey}` };
  const res = await fetch(`${weft.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

/** Every user gets a profile; a third bought something in the last 30 days, some more than once. */
async function load(weft: RunningWeft, users: number): Promise<void> {
  const r = prng(1);
  const now = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  let batch: unknown[] = [];
  const flush = async () => {
    const p = post(weft, '/v1/batch', { events: batch }, 'write');
    batch = [];
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 8) await Promise.race(inFlight);
  };
  for (let u = 0; u < users; u++) {
    const id = `user-${u}`;
    batch.push({
      event: 'visit',
      distinct_id: id,
      time: now - Math.floor(r() * 30 * DAY),
      $set: { plan: PLANS[u % 3], age: 18 + Math.floor(r() * 60), country: COUNTRIES[u % 6] },
    });
    if (r() < 0.33) {
      const n = 1 + Math.floor(r() * r() * 4);
      for (let i = 0; i < n; i++) {
        batch.push({
          event: 'purchase',
          distinct_id: id,
          time: now - Math.floor(r() * 30 * DAY),
          properties: { price: Math.floor(r() * 200) },
        });
      }
    }
    if (batch.length >= 1000) await flush();
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
}

const K6_DECIDE = `
import http from 'k6/http';
import { check } from 'k6';
const users = Number(__ENV.USERS);
const url = __ENV.URL + '/v1/decide';
const params = { headers: { 'content-type': 'application/json', authorization: 'Bearer ' + __ENV.SECRET } };
const checks = JSON.parse(__ENV.CHECKS);
export default function () {
  const id = 'user-' + Math.floor(Math.random() * users);
  const res = http.post(url, JSON.stringify({ distinct_id: id, checks }), params);
  check(res, { ok: (r) => r.status === 200 });
}
`;

/** The ceiling of this machine with this load generator: the cheapest route of the same server. */
const K6_HEALTH = `
import http from 'k6/http';
export default function () {
  http.get(__ENV.URL + '/healthz');
}
`;

interface K6Result {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
}

function k6Path(): string {
  const script = fileURLToPath(new URL('../../src/decide/install-k6.sh', import.meta.url));
  return execFileSync(script, { encoding: 'utf8' }).trim().split('\n').at(-1)!;
}

async function k6Run(f: Flags, source: string, env: Record<string, string>): Promise<K6Result> {
  const k6 = k6Path();
  const dir = mkdtempSync(join(tmpdir(), 'weft-k6-'));
  const script = join(dir, 'script.js');
  const summary = join(dir, 'summary.json');
  writeFileSync(script, source);
  const args = ['run', '--quiet', '--vus', String(f.vus), '--duration', f.duration];
  args.push('--summary-trend-stats', 'avg,p(50),p(99),max', '--summary-export', summary, script);
  // Not spawnSync: the server under test runs on this event loop.
  const child = spawn(k6, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (status !== 0 && !existsSync(summary)) throw new Error(`k6 failed (${status})`);
  const m = (JSON.parse(readFileSync(summary, 'utf8')) as { metrics: Record<string, Record<string, number>> })
    .metrics;
  rmSync(dir, { recursive: true, force: true });
  const duration = m.http_req_duration!;
  return {
    rps: m.http_reqs!.rate!,
    p50: duration['p(50)']!,
    p99: duration['p(99)']!,
    failed: m.http_req_failed?.value ?? 0,
  };
}

async function decideLoad(weft: RunningWeft, f: Flags, checks: unknown): Promise<void> {
  const health = await k6Run(f, K6_HEALTH, { URL: weft.url });
  const decide = await k6Run(f, K6_DECIDE, {
    URL: weft.url,
    SECRET: weft.secretKey,
    USERS: String(f.users),
    CHECKS: JSON.stringify(checks),
  });
  const show = (r: K6Result) =>
    `${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, failed ${(r.failed * 100).toFixed(2)}%`;
  console.log(`GET /healthz (ceiling of this box and load generator): ${show(health)}`);
  console.log(
    `POST /v1/decide, 5 checks: ${show(decide)} = ${((decide.rps / health.rps) * 100).toFixed(0)}% of the ceiling`,
  );
  console.log('  (budget: ≥ 30000 req/s, p99 ≤ 5 ms on loopback)');
}

/** Background ingest at --rate while qualifying events are timed to their entry on the change feed. */
async function membershipLatency(weft: RunningWeft, f: Flags, segment: string): Promise<void> {
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const feed = await fetch(`${weft.url}/v1/segments/changes?segment=${segment}`, {
    headers: { authorization: `Bearer ${weft.secretKey}` },
  });
  const reader = feed.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value);
      let at: number;
      while ((at = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, at);
        buffered = buffered.slice(at + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!data) continue;
        const id = (JSON.parse(data) as { distinct_id: string }).distinct_id;
        const t = sent.get(id);
        if (t !== undefined) latencies.push(performance.now() - t);
      }
    }
  })();
  const script = fileURLToPath(new URL('./background.js', import.meta.url));
  // Probes start once the background has run a second: the load generator's own start (a node
  // process booting and compiling on the same two cores) is not the server under load.
  const warmup = 1;
  const args = [script, weft.url, weft.writeKey, String(f.rate), String(f.users), String(f.seconds + warmup)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  child.stdout.on('data', (chunk: Buffer) => {
    report += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const end = performance.now() + f.seconds * 1000;
  let probe = 0;
  while (performance.now() < end) {
    const tick = performance.now();
    const id = `probe-${probe++}`;
    sent.set(id, performance.now());
    await post(weft, '/v1/batch', { events: [{ event: 'signup', distinct_id: id }] }, 'write');
    const wait = 10 - (performance.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  if ((await exited) !== 0) throw new Error('background ingest failed');
  const background = (JSON.parse(report) as { eventsPerSecond: number }).eventsPerSecond;
  await new Promise((r) => setTimeout(r, 500));
  await reader.cancel();
  await reading.catch(() => undefined);
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(
    `event → membership: ${latencies.length}/${probe} probes, p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, ` +
      `under ${Math.round(background)} background events/s (budget p99 ≤ 100 ms under 50k events/s)`,
  );
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-bench-decide-'));
  const weft = await startWeft({
    dataDir,
    port: 0,
    shards: f.shards,
    logLevel: 'silent',
    fsync: 'none',
    snapshotIntervalMs: 3_600_000,
  });
  try {
    const t0 = performance.now();
    await load(weft, f.users);
    console.log(`loaded ${f.users} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const recent = await post(weft, '/v1/segments', {
      name: 'recent buyers',
      definition: { did: 'purchase', within: { last: '7d' } },
    });
    await post(weft, '/v1/segments', {
      name: 'older pros',
      definition: {
        and: [
          { prop: 'plan', value: 'pro' },
          { prop: 'age', op: 'gte', value: 40 },
        ],
      },
    });
    await post(weft, '/v1/tags/vip/users', {
      distinct_ids: Array.from({ length: 10_000 }, (_, i) => `user-${i * 7}`),
    });
    const definition = {
      and: [
        { prop: 'plan', op: 'in', value: ['pro', 'team'] },
        { prop: 'age', op: 'between', value: [25, 45] },
        { did: 'purchase', count: { op: 'gte', value: 2 }, within: { last: '30d' } },
      ],
    };
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      count = (await post(weft, '/v1/segments/estimate', { definition })).count as number;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `estimate of a 3-clause definition over ${f.users} users: ${times[2]!.toFixed(1)} ms median of 5 (count ${count})`,
    );
    await decideLoad(weft, f, {
      recent: { segment: recent.id },
      bought_twice: { did: 'purchase', count: { op: 'gte', value: 2 }, within: { last: '7d' } },
      pro: { prop: 'plan', op: 'eq', value: 'pro' },
      hero: {
        ab: {
          key: 'hero-2026',
          variants: [
            { name: 'control', weight: 50 },
            { name: 'new', weight: 50 },
          ],
        },
      },
      push: { cap: { key: 'push', max: 3, per: '1d' } },
    });
    const signups = await post(weft, '/v1/segments?validate=loose', {
      name: 'signed up',
      definition: { did: 'signup' },
    });
    await membershipLatency(weft, f, signups.id as string);
  } finally {
    await weft.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
