import { shardOf } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { EventEncoder } from '../../src/bus/event-codec.js';
import { hashEventId, projectSeeds } from '../../src/index/dedup-table.js';
import { postBatch } from '../e2e/server-process.js';
import { call, eventually, freePort, owned, processSuite, produce, producer } from './kafka-env.js';

const { env, start } = processSuite('identity');

const T = Date.UTC(2026, 7, 1);

/** Anonymous and login ids on different partitions, so the identify moves the person. */
function pairs(n: number): Array<{ anon: string; login: string }> {
  const out: Array<{ anon: string; login: string }> = [];
  for (let i = 0; out.length < n; i++) {
    const anon = `ki-anon-${i}`;
    const login = `ki-login-${i}`;
    if (shardOf('default', anon, 4) !== shardOf('default', login, 4)) out.push({ anon, login });
  }
  return out;
}

async function timeline(url: string, id: string): Promise<string[]> {
  const res = await call(url, 'GET', `/v1/users/${id}/timeline`);
  expect(res.status).toBe(200);
  return (res.body as { events: Array<{ event: string }> }).events.map((e) => e.event);
}

describe('identity links shared by engine processes through Kafka', () => {
  it('an id identified through one collector reaches its person through the other, and events routed before the link follow it', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await start('a', pa, pb);
    const b = await start('b', pb, pa);
    await eventually(
      'the group splits the partitions',
      async () => [await owned(a.url), await owned(b.url)],
      ([x, y]) => x!.length === 2 && y!.length === 2,
    );
    const people = pairs(12);
    // Browsing and the identify go through a, which routes the identify and moves the person.
    const before = people.flatMap(({ anon, login }, i) => [
      { event_id: `ki-b-${i}`, event: 'ki_browse', distinct_id: anon, time: T + i },
      {
        event_id: `ki-i-${i}`,
        event: '$identify',
        distinct_id: login,
        time: T + 1000 + i,
        properties: { $anon_distinct_id: anon },
      },
    ]);
    expect((await postBatch(a.url, before)).status).toBe(200);
    // b reads the links within tens of milliseconds; give a busy machine ample time.
    await new Promise((r) => setTimeout(r, 3000));
    // The same browsers, still under their anonymous ids, go on through b.
    const after = people.map(({ anon }, i) => ({
      event_id: `ki-a-${i}`,
      event: 'ki_buy',
      distinct_id: anon,
      time: T + 2000 + i,
    }));
    expect((await postBatch(b.url, after)).status).toBe(200);

    // One person each: every browser converts from browse to buy. (A read over every user
    // waits for every partition's end, whichever process took the writes.)
    for (const url of [a.url, b.url]) {
      const funnel = await call(url, 'POST', '/v1/query/funnel', {
        steps: [{ event: 'ki_browse' }, { event: 'ki_buy' }],
        window: '1d',
        from: '2026-08-01',
        to: '2026-08-02',
      });
      expect(funnel.status).toBe(200);
      expect((funnel.body as { steps: Array<{ users: number }> }).steps.map((s) => s.users)).toEqual([
        people.length,
        people.length,
      ]);
    }
    // The person's timeline under either id, through either process.
    const whole = ['ki_browse', '$identify', 'ki_buy'];
    for (const url of [b.url, a.url]) {
      for (const { anon, login } of people) {
        expect({ login, events: await timeline(url, login) }).toEqual({ login, events: whole });
        expect({ anon, events: await timeline(url, anon) }).toEqual({ anon, events: whole });
      }
    }

    // A collector that has not read a link yet routes the anonymous id by its hash, to the
    // partition its person left: those events follow the person there.
    const late = people.slice(0, 4).map(({ anon }, i) => ({
      event_id: `ki-late-${i}`,
      project: 'default',
      event: 'ki_late',
      distinct_id: anon,
      time: T + 3000 + i,
      received_at: T + 3000 + i,
      properties: { step: i },
      $set: { ki_plan: 'late' },
    }));
    const p = await producer(env.KAFKA_BROKERS!);
    try {
      const seeds = projectSeeds('default');
      for (const e of late) {
        const hashes = new Uint32Array(2);
        hashEventId(seeds, e.event_id, hashes, 0);
        const bytes = new EventEncoder().encode('default', [e], hashes);
        await produce(p, env.KAFKA_TOPIC!, shardOf('default', e.distinct_id, 4), Buffer.from(bytes));
      }
    } finally {
      p.disconnect();
    }
    for (const { login } of people.slice(0, 4)) {
      await eventually(
        `${login}'s late event follows the person`,
        () => timeline(b.url, login),
        (events) => events.join() === [...whole, 'ki_late'].join(),
        20_000,
      );
      const user = await call(a.url, 'GET', `/v1/users/${login}`);
      expect((user.body as { properties: Record<string, unknown> }).properties).toMatchObject({
        ki_plan: 'late',
      });
    }
    const counted = await call(a.url, 'POST', '/v1/query/events', {
      events: [{ event: 'ki_late' }],
      metric: 'uniques',
      from: '2026-08-01',
      to: '2026-08-02',
      interval: 'day',
    });
    expect(counted.body).toMatchObject({ series: [{ total: 4 }] });
  }, 180_000);
});
