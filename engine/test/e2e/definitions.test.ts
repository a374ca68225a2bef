import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWeft, startWeft } from '../../src/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-definitions-'));
let weft: RunningWeft;
const T = Date.UTC(2026, 4, 2, 9);

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${weft.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${weft.secretKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

beforeAll(async () => {
  weft = await startWeft({ dataDir, port: 0, shards: 2, logLevel: 'silent' });
  const click = (i: number, selector: string, path: string) => ({
    event_id: `c${i}`,
    event: '$click',
    distinct_id: `u${i % 5}`,
    time: T + i,
    properties: { $el_selector: selector, $path: path, $el_text: 'Buy' },
  });
  const res = await fetch(`${weft.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-write-key': weft.writeKey },
    body: JSON.stringify({
      events: [
        ...Array.from({ length: 12 }, (_, i) => click(i, 'main > button.buy', '/pricing')),
        ...Array.from({ length: 4 }, (_, i) => click(100 + i, 'main > button.buy', '/home')),
        ...Array.from({ length: 3 }, (_, i) => click(200 + i, 'nav > a.logo', '/pricing')),
      ],
    }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await weft.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('defined events', () => {
  it('count past clicks by name in event analysis, with extra filters', async () => {
    const created = await call('POST', '/v1/definitions', {
      name: 'Pricing buy',
      where: [
        { prop: '$el_selector', value: 'main > button.buy' },
        { prop: '$path', value: '/pricing' },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Pricing buy', event: '$click' });
    const q = await call('POST', '/v1/query/events', {
      events: [
        { event: 'Pricing buy' },
        { event: 'Pricing buy', where: [{ prop: '$el_text', value: 'Nope' }] },
      ],
      metric: 'count',
      from: '2026-05-01',
      to: '2026-05-03',
      interval: 'day',
    });
    expect(q.body).toMatchObject({
      series: [
        { event: 'Pricing buy', total: 12 },
        { event: 'Pricing buy', total: 0 },
      ],
    });
    const uniques = await call('POST', '/v1/query/events', {
      events: [{ event: 'Pricing buy' }],
      metric: 'uniques',
      from: '2026-05-01',
      to: '2026-05-03',
    });
    expect((uniques.body as { series: Array<{ total: number }> }).series[0]!.total).toBe(5);
  });

  it('lists, replaces and deletes definitions; bad ones get errors naming the field', async () => {
    const dup = await call('POST', '/v1/definitions', {
      name: 'Pricing buy',
      where: [{ prop: '$path', value: '/' }],
    });
    expect(dup.status).toBe(409);
    const reserved = await call('POST', '/v1/definitions', {
      name: '$mine',
      where: [{ prop: '$path', value: '/' }],
    });
    expect(reserved.status).toBe(400);
    expect(JSON.stringify(reserved.body)).toMatch(/name/);
    const badOp = await call('POST', '/v1/definitions', {
      name: 'x',
      where: [{ prop: 'n', op: 'gt', value: 'a' }],
    });
    expect(badOp.status).toBe(400);
    expect(JSON.stringify(badOp.body)).toMatch(/where\[0\]\.value/);
    const replaced = await call('PUT', '/v1/definitions/Pricing%20buy', {
      name: 'Pricing buy',
      where: [{ prop: '$el_selector', value: 'main > button.buy' }],
    });
    expect(replaced.status).toBe(200);
    const q = await call('POST', '/v1/query/events', {
      events: [{ event: 'Pricing buy' }],
      from: '2026-05-01',
      to: '2026-05-03',
    });
    expect((q.body as { series: Array<{ total: number }> }).series[0]!.total).toBe(16);
    expect((await call('GET', '/v1/definitions')).body).toMatchObject({
      definitions: [{ name: 'Pricing buy' }],
    });
    expect((await call('DELETE', '/v1/definitions/Pricing%20buy')).status).toBe(204);
    expect((await call('GET', '/v1/definitions/Pricing%20buy')).status).toBe(404);
  });
});
