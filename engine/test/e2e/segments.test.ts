import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWeft } from '../../src/server.js';
import { type Json, startTestWeft, weftHttp } from './weft-http.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-segments-'));
let weft: RunningWeft;
const { send, call } = weftHttp(() => weft.url);
const NOW = Date.now();

const start = () => startTestWeft(dataDir);

async function decide(distinctId: string, checks: Record<string, unknown>) {
  const r = await call('POST', '/v1/decide', { distinct_id: distinctId, checks });
  expect(r.status, r.text).toBe(200);
  return r.body.results as Record<string, Json>;
}

beforeAll(async () => {
  weft = await start();
  const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
  await send(
    users.flatMap((u, i) => [
      {
        event: 'visit',
        distinct_id: u,
        time: NOW - 20 * 86_400_000,
        $set: { plan: i % 3 === 0 ? 'pro' : 'free', age: 20 + i },
      },
      ...(i % 2 === 0
        ? [{ event: 'purchase', distinct_id: u, time: NOW - (i % 10) * 86_400_000, properties: { price: i } }]
        : []),
    ]),
  );
});

afterAll(async () => {
  await weft.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('segments, tags and decide over HTTP', () => {
  let recent = '';

  it('creates a realtime segment and rejects bad definitions with the node path', async () => {
    const created = await call('POST', '/v1/segments', {
      name: 'recent buyers',
      mode: 'realtime',
      definition: { did: 'purchase', within: { last: '7d' } },
    });
    expect(created.status, created.text).toBe(201);
    recent = created.body.id;
    // Buyers i even with i % 10 in {0, 2, 4, 6}: 0,2,4,6,10,12,14,16,20,… → 16 of the 20 buyers.
    expect(created.body.size).toBe(16);
    const got = await call('GET', `/v1/segments/${recent}`);
    expect(got.body).toMatchObject({ id: recent, name: 'recent buyers', mode: 'realtime', size: 16 });

    const unknownEvent = await call('POST', '/v1/segments', {
      name: 'x',
      definition: { and: [{ prop: 'plan', value: 'pro' }, { did: 'purchse' }] },
    });
    expect(unknownEvent.status).toBe(400);
    expect(unknownEvent.body.error.message).toMatch(/^definition\.and\[1\]\.did: unknown event "purchse"/);
    const wrongType = await call('POST', '/v1/segments', {
      name: 'x',
      definition: { prop: 'age', op: 'contains', value: '2' },
    });
    expect(wrongType.body.error.message).toMatch(/definition\.op: contains needs a string property/);
    const badWindow = await call('POST', '/v1/segments', {
      name: 'x',
      definition: { did: 'purchase', within: { last: '7x' } },
    });
    expect(badWindow.body.error.message).toMatch(/definition\.within\.last/);
    const badCron = await call('POST', '/v1/segments', {
      name: 'x',
      mode: 'scheduled',
      schedule: '61 * * * *',
      definition: { did: 'visit' },
    });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error.message).toMatch(/^schedule/);
    const loose = await call('POST', '/v1/segments?validate=loose', {
      name: 'later',
      definition: { did: 'not_yet_seen' },
    });
    expect(loose.status).toBe(201);
    const a = await call('POST', '/v1/segments', { name: 'a', definition: { segment: loose.body.id } });
    const cycle = await call('PUT', `/v1/segments/${loose.body.id}?validate=loose`, {
      name: 'later',
      definition: { segment: a.body.id },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.message).toMatch(/cycle/);
    expect((await call('DELETE', `/v1/segments/${loose.body.id}`)).status).toBe(409);
  });

  it('decide sees a realtime entry right after ingest, and answers every check kind', async () => {
    expect((await decide('newbie', { recent: { segment: recent } })).recent).toBe(false);
    await send([
      { event: 'purchase', distinct_id: 'newbie', properties: { price: 99 }, $set: { plan: 'pro' } },
    ]);
    const results = await decide('newbie', {
      recent: { segment: recent },
      big: { did: 'purchase', where: [{ prop: 'price', op: 'gt', value: 50 }], within: { last: '1h' } },
      twice: { did: 'purchase', count: { op: 'gte', value: 2 } },
      never: { not_did: 'refund' },
      pro: { prop: 'plan', op: 'eq', value: 'pro' },
      hero: {
        ab: {
          key: 'hero',
          variants: [
            { name: 'a', weight: 1 },
            { name: 'b', weight: 1 },
          ],
        },
      },
    });
    expect(results).toMatchObject({ recent: true, big: true, twice: false, never: true, pro: true });
    expect(['a', 'b']).toContain(results.hero);
    const bad = await call('POST', '/v1/decide', {
      distinct_id: 'x',
      checks: { c: { cap: { key: 'k', max: 1, per: '1x' } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^checks\.c\.cap\.per/);
  });

  it('tags users by API, not through forged $tag events, and segments follow tags', async () => {
    const vip = await call('POST', '/v1/segments', {
      name: 'vips',
      definition: { tag: 'vip', value: 'gold' },
    });
    expect(vip.body.size).toBe(0);
    await send([
      {
        event: '$tag',
        distinct_id: 'u1',
        properties: { $tag: 'vip', $tag_value: 'gold', $tag_op: 'add', $tag_user: 'u1', $tag_mac: 'x' },
      },
    ]);
    expect(
      (await call('POST', '/v1/tags/vip/users', { distinct_ids: ['u2', 'u3'], value: 'gold' })).body,
    ).toEqual({ tagged: 2 });
    expect((await decide('u2', { v: { segment: vip.body.id } })).v).toBe(true);
    expect((await decide('u1', { v: { segment: vip.body.id } })).v).toBe(false);
    await call('DELETE', '/v1/tags/vip/users', { distinct_ids: ['u3'] });
    expect((await call('GET', `/v1/segments/${vip.body.id}`)).body.size).toBe(1);
    const tags = await call('GET', '/v1/tags');
    expect(tags.body.tags).toEqual([{ tag: 'vip', users: 1 }]);
    const history = await call('GET', '/v1/tags/vip/history');
    expect(history.body.history.map((h: Json) => [h.distinct_id, h.op])).toEqual(
      expect.arrayContaining([
        ['u2', 'add'],
        ['u3', 'add'],
        ['u3', 'remove'],
      ]),
    );
    expect(history.body.history).toHaveLength(3);
    const user = await call('GET', '/v1/users/u2/memberships');
    expect(user.body.tags).toEqual({ vip: 'gold' });
    expect(user.body.segments).toContain(vip.body.id);
  });

  it('estimates, exports members, answers contains and portraits', async () => {
    const definition = {
      and: [
        { prop: 'plan', value: 'free' },
        { prop: 'age', op: 'between', value: [25, 45] },
        { did: 'purchase' },
      ],
    };
    // free = i % 3 != 0, age 20+i in [25,45] → i in 5..25, purchase → i even: 8,10,14,16,20,22 (6, 12, 18 are pro).
    const estimate = await call('POST', '/v1/segments/estimate', { definition });
    expect(estimate.body).toEqual({ count: 6 });
    const seg = await call('POST', '/v1/segments', { name: 'free mid', definition });
    const csv = await call('GET', `/v1/segments/${seg.body.id}/members?format=csv&fields=age,plan`);
    expect(csv.text.split('\n')[0]).toBe('distinct_id,age,plan');
    expect(csv.text.trim().split('\n').slice(1).sort()).toEqual(
      [8, 10, 14, 16, 20, 22].map((i) => `u${i},${20 + i},free`).sort(),
    );
    const ndjson = await call('GET', `/v1/segments/${seg.body.id}/members?format=ndjson`);
    expect(
      ndjson.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).distinct_id)
        .sort(),
    ).toEqual(['u10', 'u14', 'u16', 'u20', 'u22', 'u8']);
    expect((await call('GET', `/v1/segments/${seg.body.id}/contains/u8`)).body).toEqual({ member: true });
    expect((await call('GET', `/v1/segments/${seg.body.id}/contains/u9`)).body).toEqual({ member: false });
    const numeric = await call('GET', `/v1/segments/${seg.body.id}/portrait?prop=age`);
    expect(numeric.body).toMatchObject({ kind: 'numeric', count: 6, min: 28, max: 42, median: 36 });
    const enumP = await call('GET', `/v1/segments/${recent}/portrait?prop=plan`);
    expect(enumP.body.kind).toBe('enum');
    expect(enumP.body.total).toBe(17);
    const sql = await call('GET', `/v1/segments/${seg.body.id}/sql`);
    expect(sql.body.sql).toMatch(/^SELECT person FROM/);
  });

  it('static segments take an uploaded list, also of ids not seen yet', async () => {
    const seg = await call('POST', '/v1/segments', { name: 'list', mode: 'static' });
    const up = await call(
      'PUT',
      `/v1/segments/${seg.body.id}/members`,
      'distinct_id\nu1\nu2\nghost\n',
      'text/csv',
    );
    expect(up.body).toMatchObject({ uploaded: 3, size: 2 });
    await send([{ event: 'visit', distinct_id: 'ghost' }]);
    expect((await decide('ghost', { l: { segment: seg.body.id } })).l).toBe(true);
  });

  it('streams entries and exits as server-sent events and to webhooks, and keeps size history', async () => {
    const seg = await call('POST', '/v1/segments?validate=loose', {
      name: 'signed up',
      definition: { did: 'signup' },
    });
    const posted: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        posted.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hook = await call('POST', '/v1/segments/webhooks', { url: hookUrl, segment: seg.body.id });
    expect(hook.status).toBe(201);
    const stream = await fetch(`${weft.url}/v1/segments/changes?segment=${seg.body.id}`, {
      headers: { authorization: 'Bearer sk' },
    });
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = stream.body!.getReader();
    await reader.read(); // the subscription comment
    await send([{ event: 'signup', distinct_id: 'fresh' }]);
    let text = '';
    while (!text.includes('data:')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^event: entry$/m);
    expect(JSON.parse(/^data: (.*)$/m.exec(text)![1]!)).toMatchObject({
      segment: seg.body.id,
      distinct_id: 'fresh',
      change: 'entry',
    });
    for (let i = 0; i < 50 && posted.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.parse(posted[0]!).changes).toMatchObject([{ distinct_id: 'fresh', change: 'entry' }]);
    receiver.close();
    const history = await call('GET', `/v1/segments/${seg.body.id}/history`);
    expect(history.body.sizes).toEqual([expect.objectContaining({ size: 0 })]);
  });

  it('consumes caps atomically, and caps, tags and A/B survive a restart', async () => {
    const cap = { c: { cap: { key: 'push', max: 3, per: '1d' } } };
    const answers = await Promise.all(Array.from({ length: 10 }, () => decide('u4', cap)));
    expect(answers.filter((a) => a.c.allowed)).toHaveLength(3);
    const ab = {
      hero: {
        ab: {
          key: 'exp-1',
          variants: [
            { name: 'a', weight: 1 },
            { name: 'b', weight: 3 },
          ],
        },
      },
    };
    const before = await Promise.all(['u1', 'u2', 'u3', 'u4', 'zz'].map((u) => decide(u, ab)));
    await weft.close();
    weft = await start();
    expect((await decide('u4', cap)).c.allowed).toBe(false);
    expect((await decide('u5', cap)).c.allowed).toBe(true);
    const after = await Promise.all(['u1', 'u2', 'u3', 'u4', 'zz'].map((u) => decide(u, ab)));
    expect(after).toEqual(before);
    const vips = (await call('GET', '/v1/segments')).body.segments.find((s: Json) => s.name === 'vips');
    expect((await call('GET', `/v1/segments/${vips.id}`)).body.size).toBe(1);
    expect((await call('GET', `/v1/segments/${recent}`)).body.size).toBe(17);
  });
});
