import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWeft } from '../../src/server.js';
import { startTestWeft, weftHttp } from './weft-http.js';

/**
 * What segments read over HTTP: defined events, event properties in `did.where`, other
 * segments and rule tags, and how replacing what they read carries through.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'weft-segment-refs-'));
let weft: RunningWeft;
const { send, call } = weftHttp(() => weft.url);

async function create(name: string, definition: unknown): Promise<string> {
  const r = await call('POST', '/v1/segments', { name, definition });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

async function size(id: string): Promise<number> {
  return (await call('GET', `/v1/segments/${id}`)).body.size;
}

async function member(id: string, distinctId: string): Promise<boolean> {
  return (await call('GET', `/v1/segments/${id}/contains/${distinctId}`)).body.member;
}

beforeAll(async () => {
  weft = await startTestWeft(dataDir);
  await send([
    ...['ann', 'bob', 'cy', 'dee'].map((id, i) => ({
      event: 'visit',
      distinct_id: id,
      $set: { plan: i % 2 === 0 ? 'pro' : 'free' },
    })),
    { event: 'purchase', distinct_id: 'ann', properties: { price: 80 } },
    { event: 'purchase', distinct_id: 'bob', properties: { price: 20 } },
    { event: '$click', distinct_id: 'ann', properties: { $el_text: 'Buy', $path: '/cart' } },
    { event: '$click', distinct_id: 'cy', properties: { $el_text: 'Buy', $path: '/home' } },
    { event: '$click', distinct_id: 'dee', properties: { $el_text: 'Sell', $path: '/cart' } },
  ]);
});

afterAll(async () => {
  await weft.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('segments over what they read', () => {
  it('checks did.where against the properties of the event, naming the node', async () => {
    const unknown = await call('POST', '/v1/segments', {
      name: 'x',
      definition: {
        and: [
          { prop: 'plan', value: 'pro' },
          { did: 'purchase', where: [{ prop: 'foo', value: 1 }] },
        ],
      },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe(
      'definition.and[1].where[0].prop: unknown property "foo" of event "purchase"',
    );
    // A property of another event is not one of this event's.
    const elsewhere = await call('POST', '/v1/segments', {
      name: 'x',
      definition: { did: 'purchase', where: [{ prop: '$el_text', value: 'Buy' }] },
    });
    expect(elsewhere.body.error.message).toMatch(
      /^definition\.where\[0\]\.prop: unknown property "\$el_text"/,
    );
    const wrongType = await call('POST', '/v1/segments', {
      name: 'x',
      definition: { did: 'purchase', where: [{ prop: 'price', op: 'contains', value: '8' }] },
    });
    expect(wrongType.body.error.message).toMatch(
      /^definition\.where\[0\]\.op: contains needs a string property/,
    );
    const big = await create('big spenders', {
      did: 'purchase',
      where: [{ prop: 'price', op: 'gt', value: 50 }],
    });
    expect(await size(big)).toBe(1);
    expect(
      (
        await call('POST', '/v1/segments?validate=loose', {
          name: 'y',
          definition: { did: 'purchase', where: [{ prop: 'foo', value: 1 }] },
        })
      ).status,
    ).toBe(201);
  });

  it('counts defined events as the $click they stand for, and follows their edits', async () => {
    const def = await call('POST', '/v1/definitions', {
      name: 'Pressed buy',
      event: '$click',
      where: [{ prop: '$el_text', value: 'Buy' }],
    });
    expect(def.status).toBe(201);
    const pressed = await create('pressed buy', { did: 'Pressed buy' });
    const onCart = await create('pressed buy on cart', {
      did: 'Pressed buy',
      where: [{ prop: '$path', value: '/cart' }],
    });
    expect(await size(pressed)).toBe(2);
    expect(await member(onCart, 'ann')).toBe(true);
    expect(await size(onCart)).toBe(1);
    const badFilter = await call('POST', '/v1/segments', {
      name: 'x',
      definition: { did: 'Pressed buy', where: [{ prop: 'price', value: 1 }] },
    });
    expect(badFilter.body.error.message).toBe(
      'definition.where[0].prop: unknown property "price" of event "$click" (defined event "Pressed buy")',
    );
    const checks = {
      pressed: { did: 'Pressed buy' },
      cart: { did: 'Pressed buy', where: [{ prop: '$path', value: '/cart' }] },
    };
    const decide = await call('POST', '/v1/decide', { distinct_id: 'cy', checks });
    expect(decide.body.results).toEqual({ pressed: true, cart: false });
    const sql = await call('GET', `/v1/segments/${onCart}/sql`);
    expect(sql.body.sql).toContain("event = '$click' AND (indexOf(prop_keys, '$el_text') > 0");

    // Redefined: the segments count what the name stands for now.
    const put = await call('PUT', '/v1/definitions/Pressed%20buy', {
      name: 'Pressed buy',
      event: '$click',
      where: [{ prop: '$el_text', value: 'Sell' }],
    });
    expect(put.status).toBe(200);
    expect(await member(pressed, 'dee')).toBe(true);
    expect(await member(pressed, 'ann')).toBe(false);
    expect(await member(onCart, 'dee')).toBe(true);
    // Decide compiles the same checks anew rather than answering from the old definition.
    const cy = await call('POST', '/v1/decide', { distinct_id: 'cy', checks });
    expect(cy.body.results).toEqual({ pressed: false, cart: false });
    const dee = await call('POST', '/v1/decide', { distinct_id: 'dee', checks });
    expect(dee.body.results).toEqual({ pressed: true, cart: true });
    // New events too.
    await send([{ event: '$click', distinct_id: 'bob', properties: { $el_text: 'Sell', $path: '/cart' } }]);
    expect(await size(onCart)).toBe(2);

    const del = await call('DELETE', '/v1/definitions/Pressed%20buy');
    expect(del.status).toBe(409);
    expect(del.body.error.message).toBe(`name: segment ${pressed}, segment ${onCart} count "Pressed buy"`);
  });

  it('replacing a segment re-evaluates the segments reading it, directly, transitively and through rule tags', async () => {
    const pros = await create('pros', { prop: 'plan', value: 'pro' });
    const proBuyers = await create('pro buyers', { and: [{ segment: pros }, { did: 'purchase' }] });
    const notProBuyers = await create('not pro buyers', { not: { segment: proBuyers } });
    const rule = await call('PUT', '/v1/tags/tier/rule', { segment: pros });
    expect(rule.status).toBe(200);
    const tiered = await create('tiered', { tag: 'tier' });
    expect(await member(proBuyers, 'ann')).toBe(true);
    expect(await member(notProBuyers, 'bob')).toBe(true);
    expect(await member(tiered, 'cy')).toBe(true);

    const put = await call('PUT', `/v1/segments/${pros}`, {
      name: 'pros',
      definition: { prop: 'plan', value: 'free' },
    });
    expect(put.status).toBe(200);
    expect(await member(proBuyers, 'ann')).toBe(false);
    expect(await member(proBuyers, 'bob')).toBe(true);
    expect(await member(notProBuyers, 'ann')).toBe(true);
    expect(await member(notProBuyers, 'bob')).toBe(false);
    expect(await member(tiered, 'cy')).toBe(false);
    expect(await member(tiered, 'dee')).toBe(true);

    // A rule tag that would make a segment read itself is refused.
    const cycle = await call('PUT', '/v1/tags/loop/rule', {
      segment: await create('loop', { or: [{ tag: 'loop' }, { prop: 'plan', value: 'pro' }] }),
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.message).toMatch(/^segment: segment "seg_\w+" reads tag "loop" \(cycle: /);
  });
});
