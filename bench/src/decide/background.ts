/**
 * Background ingest for the event → membership measurement, run as a child process of run.ts
 * so its JSON and HTTP work is not on the event loop of the server under test.
 *
 *   node background.js URL WRITE_KEY RATE USERS SECONDS
 *
 * Posts `RATE / 100` `visit` events every 10 ms (bodies serialized once, up front) for
 * SECONDS, then prints the events/s it achieved as JSON on stdout.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

const [url, writeKey, rateArg, usersArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const users = Number(usersArg);
const seconds = Number(secondsArg);
const perTick = Math.max(1, Math.round(rate / 100));
const BODIES = 200;

const bodies: string[] = [];
let next = 0;
for (let b = 0; b < BODIES; b++) {
  const events = Array.from({ length: perTick }, () => ({
    event: 'visit',
    distinct_id: `user-${next++ % users}`,
  }));
  bodies.push(JSON.stringify({ events }));
}

const pool = new Pool(url!, { connections: 8 });
const headers = { 'content-type': 'application/json', 'x-write-key': writeKey! };
const inFlight = new Set<Promise<void>>();
let sent = 0;
let failed = 0;

async function postBody(body: string): Promise<void> {
  const res = await pool.request({ path: '/v1/batch', method: 'POST', headers, body });
  await res.body.dump();
  if (res.statusCode === 200) sent += perTick;
  else failed++;
}

const start = performance.now();
const end = start + seconds * 1000;
for (let tick = 0; performance.now() < end; tick++) {
  const p = postBody(bodies[tick % BODIES]!);
  inFlight.add(p);
  p.finally(() => inFlight.delete(p));
  // Ticks are scheduled from the start, so a slow response does not lower the rate.
  const wait = start + (tick + 1) * 10 - performance.now();
  if (wait > 0) await sleep(wait);
}
await Promise.all(inFlight);
await pool.close();
process.stdout.write(`${JSON.stringify({ eventsPerSecond: sent / seconds, failed })}\n`);
