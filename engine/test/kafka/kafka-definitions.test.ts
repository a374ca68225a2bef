import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardOf } from '@weft/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postBatch, type ServerProcess, startServerProcess } from '../e2e/server-process.js';
import { call, clickhouseOf, eventually, freePort, kafkaEnv, owned } from './kafka-env.js';

const root = mkdtempSync(join(tmpdir(), 'weft-kafka-defs-'));
const running: ServerProcess[] = [];
const env = kafkaEnv('defs');
const envs = [env];

// A process that died mid-test shows only as a refused connection: print what the servers said.
afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const s of running) console.error(`--- server ${s.url} (exit ${s.child.exitCode})\n${s.output()}`);
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  for (const e of envs) {
    const ch = clickhouseOf(e);
    await ch.command(`DROP DATABASE IF EXISTS \`${e.CLICKHOUSE_DATABASE}\``);
    await ch.close();
  }
  rmSync(root, { recursive: true, force: true });
});

async function start(dir: string, port: number, peers: number[], kafka = env): Promise<ServerProcess> {
  const s = await startServerProcess(join(root, dir), {
    ...kafka,
    WEFT_PORT: String(port),
    WEFT_PEERS: peers.map((p) => `http://127.0.0.1:${p}`).join(','),
    WEFT_PARTITION_DIR: join(root, `partitions-${kafka.KAFKA_TOPIC}`),
  });
  running.push(s);
  return s;
}

async function stop(s: ServerProcess): Promise<void> {
  await s.stop();
  running.splice(running.indexOf(s), 1);
}

const T = Date.UTC(2026, 7, 1);
const USERS = 120;
const user = (i: number) => `kd-user-${i}`;
const buys = (i: number) => i % 3 === 0;
const clicksBuy = (i: number) => i % 4 === 0;

function events() {
  return Array.from({ length: USERS }, (_, i) => {
    const out: unknown[] = [
      {
        event_id: `kd-v-${i}`,
        event: 'kd_visit',
        distinct_id: user(i),
        time: T + i * 1000,
        $set: { kd_age: i },
      },
      {
        event_id: `kd-c-${i}`,
        event: '$click',
        distinct_id: user(i),
        time: T + i * 1000 + 1,
        properties: { $el_selector: clicksBuy(i) ? '#buy' : '#logo' },
      },
    ];
    if (buys(i))
      out.push({ event_id: `kd-b-${i}`, event: 'kd_buy', distinct_id: user(i), time: T + i * 1000 + 2 });
    return out;
  }).flat();
}

const BUYERS = Array.from({ length: USERS }, (_, i) => i).filter(buys).length;
const CLICKERS = Array.from({ length: USERS }, (_, i) => i).filter(clicksBuy).length;
const VIP = [user(1), user(2), user(5), user(7), user(11)];

interface Ids {
  buyers: string;
  tagged: string;
  clickers: string;
  vip: string;
}

/** What each check must answer for user i (the index names the user in a failure). */
function expected(i: number) {
  return {
    user: i,
    buyers: buys(i),
    tagged: buys(i),
    clickers: clicksBuy(i),
    vip: VIP.includes(user(i)),
    clicked: clicksBuy(i),
  };
}

async function decide(url: string, i: number, ids: Ids) {
  const res = await call(url, 'POST', '/v1/decide', {
    distinct_id: user(i),
    checks: {
      buyers: { segment: ids.buyers },
      tagged: { segment: ids.tagged },
      clickers: { segment: ids.clickers },
      vip: { segment: ids.vip },
      clicked: { did: 'Clicked buy' },
    },
  });
  expect(res.status).toBe(200);
  return { user: i, ...(res.body.results as Record<string, boolean>) };
}

async function contains(url: string, id: string, i: number): Promise<boolean> {
  const res = await call(url, 'GET', `/v1/segments/${id}/contains/${user(i)}`);
  expect(res.status).toBe(200);
  return (res.body as { member: boolean }).member;
}

async function estimate(url: string, definition: unknown): Promise<number> {
  const res = await call(url, 'POST', '/v1/segments/estimate', { definition });
  expect(res.status).toBe(200);
  return (res.body as { count: number }).count;
}

describe('definitions shared by engine processes through Kafka', () => {
  it('a change made through one process holds on every process, and a late process catches up', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await start('a', pa, [pb]);
    await eventually(
      'a owns every partition',
      () => owned(a.url),
      (p) => p.length === 4,
    );
    const b = await start('b', pb, [pa]);
    const [, onB] = await eventually(
      'the group splits the partitions',
      async () => [await owned(a.url), await owned(b.url)],
      ([x, y]) => x!.length === 2 && y!.length === 2,
    );
    const all = events();
    for (let i = 0; i < all.length; i += 100)
      expect((await postBatch(b.url, all.slice(i, i + 100))).status).toBe(200);
    // Users whose shard runs in process b.
    const bUsers = Array.from({ length: USERS }, (_, i) => i).filter((i) =>
      onB!.includes(shardOf('default', user(i), 4)),
    );
    expect(bUsers.length).toBeGreaterThan(20);

    // Everything is defined through a.
    expect(
      (
        await call(a.url, 'POST', '/v1/definitions', {
          name: 'Clicked buy',
          where: [{ prop: '$el_selector', value: '#buy' }],
        })
      ).status,
    ).toBe(201);
    const create = async (definition: unknown) => {
      const res = await call(a.url, 'POST', '/v1/segments', { name: 'x', mode: 'realtime', definition });
      expect(res.status).toBe(201);
      return res.body as { id: string; size: number };
    };
    const buyers = await create({ did: 'kd_buy' });
    // The answer counts b's partitions: b applied the definition before its shards answered.
    expect(buyers.size).toBe(BUYERS);
    expect((await call(a.url, 'PUT', '/v1/tags/kd_buyer/rule', { segment: buyers.id })).status).toBe(200);
    const tagged = await create({ tag: 'kd_buyer' });
    expect(tagged.size).toBe(BUYERS);
    const clickers = await create({ did: 'Clicked buy' });
    expect(clickers.size).toBe(CLICKERS);
    const vip = (await call(a.url, 'POST', '/v1/segments', { name: 'vip', mode: 'static' })).body as {
      id: string;
    };
    const upload = await call(a.url, 'PUT', `/v1/segments/${vip.id}/members`, VIP);
    expect(upload.body).toMatchObject({ uploaded: VIP.length, size: VIP.length });
    const ids: Ids = { buyers: buyers.id, tagged: tagged.id, clickers: clickers.id, vip: vip.id };

    // b converges within a short bound, then answers decide for its own users from its own store.
    await eventually(
      'b knows the static list',
      async () => (await call(b.url, 'GET', `/v1/segments/${vip.id}`)).body,
      (seg) => seg.size === VIP.length,
      5000,
    );
    for (const url of [a.url, b.url]) {
      for (const i of bUsers) {
        expect(await decide(url, i, ids)).toEqual(expected(i));
        expect(await contains(url, buyers.id, i)).toBe(buys(i));
      }
      // Defined events count in analyses on either process.
      const q = await call(url, 'POST', '/v1/query/events', {
        events: [{ event: 'Clicked buy' }],
        metric: 'uniques',
        from: '2026-08-01',
        to: '2026-08-02',
        interval: 'day',
      });
      expect(q.body).toMatchObject({ series: [{ total: CLICKERS }] });
      // Reads over every user answer for all four partitions.
      expect(await estimate(url, { did: 'kd_buy' })).toBe(BUYERS);
      expect(await estimate(url, { did: 'Clicked buy' })).toBe(CLICKERS);
      const ages = await call(url, 'GET', `/v1/segments/${buyers.id}/portrait?prop=kd_age&kind=numeric`);
      expect(ages.body).toMatchObject({ count: BUYERS, min: 0, max: USERS - 3 });
      const members = await call(url, 'GET', `/v1/segments/${tagged.id}/members?format=ndjson`);
      expect(members.text.trim().split('\n')).toHaveLength(BUYERS);
      const tags = (await call(url, 'GET', '/v1/tags')).body as { rules: unknown[] };
      expect(tags.rules).toEqual([{ tag: 'kd_buyer', segment: buyers.id }]);
    }

    // Deleting through b is seen by a.
    expect((await call(b.url, 'DELETE', `/v1/segments/${clickers.id}`)).status).toBe(204);
    expect((await call(b.url, 'DELETE', `/v1/definitions/${encodeURIComponent('Clicked buy')}`)).status).toBe(
      204,
    );
    expect((await call(b.url, 'DELETE', `/v1/segments/${tagged.id}`)).status).toBe(204);
    expect((await call(b.url, 'DELETE', '/v1/tags/kd_buyer/rule')).status).toBe(204);
    await eventually(
      'a sees the deletes',
      async () => [
        (await call(a.url, 'GET', `/v1/segments/${clickers.id}`)).status,
        (await call(a.url, 'GET', `/v1/definitions/${encodeURIComponent('Clicked buy')}`)).status,
        ((await call(a.url, 'GET', '/v1/tags')).body as { rules: unknown[] }).rules.length,
      ],
      ([seg, def, rules]) => seg === 404 && def === 404 && rules === 0,
      5000,
    );
    const left = ((await call(a.url, 'GET', '/v1/segments')).body as { segments: Array<{ id: string }> })
      .segments;
    expect(left.map((s) => s.id).sort()).toEqual([buyers.id, vip.id].sort());

    // One process alone answers as the two did.
    await stop(b);
    await eventually(
      'a owns every partition again',
      () => owned(a.url),
      (p) => p.length === 4,
    );
    expect(await estimate(a.url, { did: 'kd_buy' })).toBe(BUYERS);

    // A process started later, with an empty data dir, reads every definition from Kafka.
    const c = await start('c', pb, [pa]);
    const [, onC] = await eventually(
      'the group splits the partitions with c',
      async () => [await owned(a.url), await owned(c.url)],
      ([x, y]) => x!.length === 2 && y!.length === 2,
    );
    const segs = ((await call(c.url, 'GET', '/v1/segments')).body as { segments: Array<{ id: string }> })
      .segments;
    expect(segs.map((s) => s.id).sort()).toEqual([buyers.id, vip.id].sort());
    expect(
      ((await call(c.url, 'GET', '/v1/definitions')).body as { definitions: unknown[] }).definitions,
    ).toEqual([]);
    const cUsers = Array.from({ length: USERS }, (_, i) => i).filter((i) =>
      onC!.includes(shardOf('default', user(i), 4)),
    );
    for (const i of cUsers) {
      const res = await call(c.url, 'POST', '/v1/decide', {
        distinct_id: user(i),
        checks: { buyers: { segment: buyers.id }, vip: { segment: vip.id } },
      });
      expect(res.body).toEqual({ results: { buyers: buys(i), vip: VIP.includes(user(i)) } });
    }
    expect(await estimate(c.url, { did: 'kd_buy' })).toBe(BUYERS);
    expect(((await call(c.url, 'GET', `/v1/segments/${vip.id}`)).body as { size: number }).size).toBe(
      VIP.length,
    );
  }, 240_000);

  it('seeds a definitions topic never written to from the data dir of a process that kept them before', async () => {
    // Embedded, as before Kafka: definitions in the data dir only.
    const legacy = await startServerProcess(join(root, 'legacy'), { WEFT_SHARDS: '4', CLICKHOUSE_URL: '' });
    const made = await call(legacy.url, 'POST', '/v1/segments?validate=loose', {
      name: 'kept',
      mode: 'realtime',
      definition: { did: 'kd_visit' },
    });
    expect(made.status).toBe(201);
    const id = (made.body as { id: string }).id;
    await legacy.stop();

    const upgraded = kafkaEnv('seed');
    envs.push(upgraded);
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await start('legacy', pa, [pb], upgraded);
    const b = await start('fresh', pb, [pa], upgraded);
    await eventually(
      'b reads the seeded segment',
      async () => (await call(b.url, 'GET', `/v1/segments/${id}`)).status,
      (status) => status === 200,
      5000,
    );
    expect(
      ((await call(a.url, 'GET', '/v1/segments')).body as { segments: unknown[] }).segments,
    ).toHaveLength(1);
  }, 120_000);
});
