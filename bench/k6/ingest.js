// k6 load script for `POST /v1/batch`: 100-event JSON batches against a running Weft server
// (embedded or Kafka mode). See bench/README.md, "k6 against a running server".
//
//   WEFT_WRITE_KEY=wk_… k6 run bench/k6/ingest.js
//
// Environment (all optional except WEFT_WRITE_KEY):
//   WEFT_URL        base URL of the server                          [http://127.0.0.1:8080]
//   WEFT_WRITE_KEY  write key of the default project (sent as X-Write-Key; see data/keys.json)
//   BATCH           events per request                               [100]
//   USERS           distinct users                                   [100000]
//   RATE            requests/s: constant-arrival-rate executor with PRE_VUS..MAX_VUS VUs
//                   (RATE × BATCH = offered events/s); unset: VU-driven, see VUS / STAGES
//   DURATION        duration of the constant executors               [30s]
//   PRE_VUS         VUs allocated up front for RATE                  [64]
//   MAX_VUS         VUs k6 may add for RATE                          [256]
//   VUS             VUs of the constant-vus executor (no RATE, no STAGES)  [64]
//   STAGES          ramping-vus stages "duration:target,…", e.g. "10s:16,30s:64,10s:0"
//   RUN_ID          prefix of every event_id                         [random per run]
//
// Each event has a unique event_id (`<run>-<vu>-<iter>-<i>`): the server dedups on it, so reruns
// with a fresh RUN_ID never collide. Every answer must be 200 with all events accepted.
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';

const BASE = (__ENV.WEFT_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const WRITE_KEY = __ENV.WEFT_WRITE_KEY || '';
const BATCH = Number(__ENV.BATCH || 100);
const USERS = Number(__ENV.USERS || 100000);
const DURATION = __ENV.DURATION || '30s';

function scenario() {
  if (__ENV.RATE) {
    return {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE),
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Number(__ENV.PRE_VUS || 64),
      maxVUs: Number(__ENV.MAX_VUS || 256),
    };
  }
  if (__ENV.STAGES) {
    return {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: __ENV.STAGES.split(',').map((s) => {
        const [duration, target] = s.trim().split(':');
        return { duration, target: Number(target) };
      }),
      gracefulRampDown: '5s',
    };
  }
  return { executor: 'constant-vus', vus: Number(__ENV.VUS || 64), duration: DURATION };
}

export const options = {
  scenarios: { ingest: scenario() },
  // Information only: k6 exits non-zero when a threshold fails, which is the point of a check run.
  thresholds: { checks: ['rate>0.99'] },
  summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(99)', 'max'],
};

const eventsAccepted = new Counter('weft_events_accepted');
const eventsRejected = new Counter('weft_events_rejected');

const NAMES = [
  '$pageview',
  '$click',
  '$pageleave',
  'view_item',
  'search',
  'add_to_cart',
  'login',
  'purchase',
];
const WEIGHTS = NAMES.map((_, i) => 1 / (i + 1));
const TOTAL = WEIGHTS.reduce((a, b) => a + b, 0);
const PATHS = ['/', '/pricing', '/docs', '/blog', '/p', '/cart', '/checkout', '/account', '/search'];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge'];
const OSES = ['Windows', 'macOS', 'iOS', 'Android', 'Linux'];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

function eventName() {
  let r = Math.random() * TOTAL;
  for (let i = 0; i < NAMES.length; i++) {
    r -= WEIGHTS[i];
    if (r <= 0) return NAMES[i];
  }
  return NAMES[0];
}

export function setup() {
  if (!WRITE_KEY) fail('set WEFT_WRITE_KEY (the server prints it at start; also in <data dir>/keys.json)');
  return { run: __ENV.RUN_ID || Math.random().toString(36).slice(2, 10) };
}

export default function (data) {
  const now = Date.now();
  const events = new Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    // Skewed activity: squaring a uniform number favours low user ids (a few heavy users).
    const u = Math.floor(Math.random() ** 2 * USERS);
    const event = eventName();
    const path = pick(PATHS);
    const properties = {
      $url: `https://shop.example.com${path}`,
      $path: path,
      $browser: pick(BROWSERS),
      $os: pick(OSES),
      $screen_width: 360 + Math.floor(Math.random() * 2200),
      plan: pick(PLANS),
    };
    if (event === 'purchase' || event === 'add_to_cart') {
      properties.item_id = `sku-${Math.floor(Math.random() * 10000)}`;
      properties.price = Math.round(Math.random() * 50000) / 100;
    }
    const time = now - Math.floor(Math.random() * 30 * 86400000);
    events[i] = {
      event_id: `${data.run}-${__VU}-${__ITER}-${i}`,
      event,
      distinct_id: `u${u}`,
      time,
      session_id: `s${u.toString(36)}-${Math.floor(time / 1800000).toString(36)}`,
      properties,
    };
  }
  const res = http.post(`${BASE}/v1/batch`, JSON.stringify({ sent_at: now, events }), {
    headers: { 'content-type': 'application/json', 'x-write-key': WRITE_KEY },
    tags: { name: 'POST /v1/batch' },
  });
  let answer;
  if (res.status === 200) {
    try {
      answer = res.json();
    } catch (_) {
      answer = undefined;
    }
  }
  if (answer) {
    eventsAccepted.add(answer.accepted || 0);
    eventsRejected.add((answer.rejected || []).length);
  }
  check(res, {
    'status is 200': (r) => r.status === 200,
    'every event accepted': () => answer !== undefined && answer.accepted === BATCH,
  });
}
