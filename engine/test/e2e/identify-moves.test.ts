import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardOf } from '@weft/core';
import { afterAll, describe, expect, it } from 'vitest';
import { startWeft } from '../../src/server.js';
import { postBatch, query, SECRET_KEY, startServerProcess, WRITE_KEY } from './server-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-moves-'));
const dirs = [dataDir];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('read-your-writes across an identify that moves history between shards', () => {
  it('shows the anonymous history under the login id as soon as the identify is acknowledged', async () => {
    const weft = await startWeft({
      dataDir,
      port: 0,
      shards: 4,
      logLevel: 'silent',
      writeKey: 'wk',
      secretKey: 'sk',
    });
    try {
      const T = Date.UTC(2026, 5, 1);
      let checked = 0;
      for (let u = 0; checked < 25; u++) {
        const anon = `anon-${u}`;
        const login = `login-${u}`;
        // Only pairs on different shards exercise the move.
        if (shardOf('default', anon, 4) === shardOf('default', login, 4)) continue;
        checked++;
        const res = await fetch(`${weft.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-write-key': 'wk' },
          body: JSON.stringify({
            events: [
              { event: 'browse', distinct_id: anon, time: T, event_id: `b-${u}` },
              {
                event: '$identify',
                distinct_id: login,
                time: T + 1,
                properties: { $anon_distinct_id: anon },
              },
            ],
          }),
        });
        expect(res.status).toBe(200);
        const timeline = (await (
          await fetch(`${weft.url}/v1/users/${login}/timeline`, { headers: { authorization: 'Bearer sk' } })
        ).json()) as { events: Array<{ event: string }> };
        expect(timeline.events.map((e) => e.event)).toEqual(['browse', '$identify']);
      }
    } finally {
      await weft.close();
    }
  });
});

const SHARDS = 3;
const DAY = 86_400_000;
const T2 = Date.UTC(2026, 5, 2);

/** The ids of a chain a -> b -> c, each hashing to a shard of its own. */
function chainIds(tag: string): { a: string; b: string; c: string } {
  const on = (prefix: string, shard: number): string => {
    for (let i = 0; ; i++)
      if (shardOf('default', `${prefix}-${i}`, SHARDS) === shard) return `${prefix}-${i}`;
  };
  return { a: on(`${tag}-a`, 0), b: on(`${tag}-b`, 1), c: on(`${tag}-c`, 2) };
}

function chainEvents(tag: string, { a, b, c }: { a: string; b: string; c: string }) {
  let n = 0;
  const e = (event: string, distinct_id: string, time: number, properties: Record<string, string> = {}) => ({
    event_id: `${tag}-${n++}`,
    event,
    distinct_id,
    time,
    properties,
  });
  return {
    before: [e('ch_view', a, T2), e('ch_home', c, T2 + 500)],
    // Both identifies in one batch: b's person leaves its shard before a's history gets there,
    // and a's next event reaches c's shard before either history does.
    chain: [
      e('$identify', b, T2 + 2000, { $anon_distinct_id: a }),
      e('ch_cart', b, T2 + DAY),
      e('$identify', c, T2 + DAY + 1000, { $anon_distinct_id: b }),
      e('ch_buy', a, T2 + DAY + 2000),
    ],
    after: (round: number) =>
      [a, b, c].map((id, i) => e('ch_ping', id, T2 + 2 * DAY + round * 10 + i, { round: String(round) })),
  };
}

/** Every id of the chain answers with one person: one timeline, one unique user, a converting funnel. */
async function expectOnePerson(url: string, { a, b, c }: { a: string; b: string; c: string }, pings: number) {
  const timelines = await Promise.all(
    [a, b, c].map(async (id) => {
      const res = await fetch(`${url}/v1/users/${id}/timeline`, {
        headers: { authorization: `Bearer ${SECRET_KEY}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { events: Array<{ event: string; time: number }> }).events;
    }),
  );
  expect(timelines[0]!.map((e) => e.event)).toEqual([
    'ch_view',
    'ch_home',
    '$identify',
    'ch_cart',
    '$identify',
    'ch_buy',
    ...Array.from({ length: pings }, () => 'ch_ping'),
  ]);
  expect(timelines[1]).toEqual(timelines[0]);
  expect(timelines[2]).toEqual(timelines[0]);
  const range = { from: '2026-06-01', to: '2026-06-10' };
  const uniques = (await query(url, '/v1/query/events', {
    events: [{ event: 'ch_ping' }, { event: '$identify' }],
    metric: 'uniques',
    interval: 'month',
    ...range,
  })) as { series: Array<{ total: number }> };
  expect(uniques.series.map((s) => s.total)).toEqual([1, 1]);
  const funnel = (await query(url, '/v1/query/funnel', {
    steps: [{ event: 'ch_view' }, { event: 'ch_cart' }, { event: 'ch_buy' }],
    window: '2d',
    ...range,
  })) as { steps: Array<{ users: number }> };
  expect(funnel.steps.map((s) => s.users)).toEqual([1, 1, 1]);
}

/** Who entered the segment so far, from the start of the change log. */
async function entries(url: string, segment: string): Promise<string[]> {
  const stop = new AbortController();
  const res = await fetch(`${url}/v1/segments/changes?segment=${segment}&last_event_id=0`, {
    headers: { authorization: `Bearer ${SECRET_KEY}` },
    signal: stop.signal,
  });
  const reader = res.body!.getReader();
  let text = '';
  // The log's replay comes at once; a quiet stream afterwards means it is all there.
  for (;;) {
    const quiet = new Promise<undefined>((resolve) => setTimeout(resolve, 500));
    const chunk = await Promise.race([reader.read(), quiet]);
    if (!chunk || chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  stop.abort();
  return [...text.matchAll(/^data: (.*)$/gm)]
    .map((m) => JSON.parse(m[1]!) as { distinct_id: string; change: string })
    .filter((c) => c.change === 'entry')
    .map((c) => c.distinct_id);
}

describe('a chain of identifies across shards (a -> b, then b -> c): every id follows the person', () => {
  it("lands a's later events on c's person, before and after a restart (snapshots, routes)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-chain-'));
    dirs.push(dir);
    const ids = chainIds('chain');
    const events = chainEvents('chain', ids);
    const start = () =>
      startWeft({
        dataDir: dir,
        port: 0,
        shards: SHARDS,
        logLevel: 'silent',
        writeKey: WRITE_KEY,
        secretKey: SECRET_KEY,
      });
    let weft = await start();
    try {
      const segment = await fetch(`${weft.url}/v1/segments?validate=loose`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET_KEY}` },
        body: JSON.stringify({ name: 'buyers', definition: { did: 'ch_buy' } }),
      });
      const { id: buyers } = (await segment.json()) as { id: string };
      for (const batch of [events.before, events.chain, events.after(0)])
        expect((await postBatch(weft.url, batch)).status).toBe(200);
      await expectOnePerson(weft.url, ids, 3);
      // a's purchase reached c's shard before a's history did: it joined the person there
      // (known by c) instead of starting a person of its own.
      expect(await entries(weft.url, buyers)).toEqual([ids.c]);
    } finally {
      await weft.close();
    }
    weft = await start();
    try {
      await expectOnePerson(weft.url, ids, 3);
      expect((await postBatch(weft.url, events.after(1))).status).toBe(200);
      await expectOnePerson(weft.url, ids, 6);
    } finally {
      await weft.close();
    }
  });

  it('replays the evictions after a kill: the moves they order land on the person, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-chain-kill-'));
    dirs.push(dir);
    const ids = chainIds('kill');
    const events = chainEvents('kill', ids);
    const env = { WEFT_SHARDS: String(SHARDS) };
    const first = await startServerProcess(dir, env);
    try {
      for (const batch of [events.before, events.chain, events.after(0)])
        expect((await postBatch(first.url, batch)).status).toBe(200);
    } finally {
      // No snapshot covers the evictions: the shards replay them, moves in flight or not.
      await first.stop('SIGKILL');
    }
    const second = await startServerProcess(dir, env);
    try {
      await expectOnePerson(second.url, ids, 3);
      expect((await postBatch(second.url, events.after(1))).status).toBe(200);
      await expectOnePerson(second.url, ids, 6);
    } finally {
      await second.stop();
    }
  });
});
