import { DEFAULT_LIMITS, WeftError } from '@weft/core';
import Fastify from 'fastify';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../src/http/errors.js';
import { registerIngestRoutes } from '../../src/http/routes.js';
import { keys, type TestApp, testApp, WRITE_KEY } from '../helpers.js';

const good = { event: 'view', distinct_id: 'u1', properties: { $url: 'https://shop.com/?utm_medium=cpc' } };
const json = (body: unknown) => JSON.stringify(body);

describe('POST /v1/batch', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ ...DEFAULT_LIMITS, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => t.app.close());

  const post = (payload: string | Buffer, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', 'x-write-key': WRITE_KEY, ...headers },
      payload,
    });

  it('accepts good events and reports bad ones (partial success)', async () => {
    const before = t.submitted.length;
    const res = await post(json({ events: [good, { event: 'x' }, good] }), { 'user-agent': 'Test/1' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 2,
      rejected: [{ index: 1, reason: 'distinct_id: must be a string of 1-200 characters or a number' }],
    });
    const kept = t.submitted.slice(before);
    expect(kept).toHaveLength(2);
    expect(kept[0].properties).toMatchObject({ $ip: '127.0.0.1', $user_agent: 'Test/1', $channel: 'paid' });
  });

  it('accepts msgpack under both media types', async () => {
    for (const type of ['application/msgpack', 'application/x-msgpack']) {
      const res = await post(pack({ events: [good] }), { 'content-type': type });
      expect(res.statusCode, type).toBe(200);
      expect(res.json()).toEqual({ accepted: 1, rejected: [] });
    }
  });

  it('accepts a beacon (text/plain JSON) with the key in the body', async () => {
    const res = await post(json({ write_key: WRITE_KEY, events: [good] }), {
      'content-type': 'text/plain;charset=UTF-8',
      'x-write-key': '',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1, rejected: [] });
  });

  it('takes the key from X-Write-Key, HTTP Basic username or the body', async () => {
    const basic = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
    const viaBasic = await post(json({ events: [good] }), { 'x-write-key': '', authorization: basic });
    expect(viaBasic.statusCode).toBe(200);
    const viaBody = await post(json({ write_key: WRITE_KEY, events: [good] }), { 'x-write-key': '' });
    expect(viaBody.statusCode).toBe(200);
  });

  it('answers 401 for an unknown or missing key', async () => {
    const unknown = await post(json({ events: [good] }), { 'x-write-key': 'nope' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual({ error: { code: 'unauthorized', message: 'unknown write key' } });
    const missing = await post(json({ events: [good] }), { 'x-write-key': '' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('unauthorized');
  });

  it('answers 413 too_large for a body above maxBodyBytes, as JSON with CORS', async () => {
    const big = json({ events: [{ ...good, properties: { pad: 'x'.repeat(70 * 1024) } }] });
    const res = await post(big, { origin: 'https://shop.com' });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      error: {
        code: 'too_large',
        message: 'body: request body is larger than the limit',
        details: { field: 'body' },
      },
    });
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.com');
  });

  it('answers 413 for more events than maxBatchEvents', async () => {
    const small = await testApp({ ...DEFAULT_LIMITS, maxBatchEvents: 2 });
    const res = await small.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', 'x-write-key': WRITE_KEY },
      payload: json({ events: [good, good, good] }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toEqual({
      code: 'too_large',
      message: 'events: more than 2 events in one batch',
      details: { field: 'events', max: 2 },
    });
    await small.app.close();
  });

  it('answers 415 for other content types', async () => {
    const res = await post('<events/>', { 'content-type': 'application/xml' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toMatchObject({
      code: 'unsupported_media_type',
      message: 'Content-Type: application/xml is not supported here',
    });
  });

  it('answers 400 for malformed JSON, msgpack, or an empty body', async () => {
    const badJson = await post('{"events": [');
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.message).toMatch(/^body: JSON parse failed/);
    const badPack = await post(Buffer.from([0x92, 0x01]), { 'content-type': 'application/msgpack' });
    expect(badPack.statusCode).toBe(400);
    expect(badPack.json().error.message).toMatch(/^body: msgpack parse failed/);
    const empty = await post('');
    expect(empty.statusCode).toBe(400);
    const notArray = await post(json({ events: 'x' }));
    expect(notArray.json()).toEqual({
      error: { code: 'invalid', message: 'events: must be an array', details: { field: 'events' } },
    });
  });

  it('answers CORS preflights and puts the origin on responses', async () => {
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/batch',
      headers: { origin: 'https://shop.com', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers).toMatchObject({
      'access-control-allow-origin': 'https://shop.com',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'Content-Type, X-Write-Key, Authorization',
      'access-control-max-age': '86400',
      vary: 'Origin',
    });
    const res = await post(json({ events: [good] }), { origin: 'https://shop.com' });
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.com');
    const noOrigin = await post(json({ events: [good] }));
    expect(noOrigin.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('POST /v1/batch when the engine is overloaded', () => {
  it('answers 503 with Retry-After', async () => {
    const app = Fastify();
    installErrorHandler(app);
    registerIngestRoutes(app, {
      keys,
      limits: DEFAULT_LIMITS,
      submitBatch: async () => {
        throw new WeftError('overloaded', 'ingest queue is full', undefined, 2);
      },
      publishEvents: async () => {},
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', 'x-write-key': WRITE_KEY },
      payload: '{"events":[]}',
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json()).toEqual({ error: { code: 'overloaded', message: 'ingest queue is full' } });
    await app.close();
  });
});
