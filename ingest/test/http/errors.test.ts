import { WeftError } from '@weft/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../src/http/errors.js';

describe('installErrorHandler', () => {
  let app: FastifyInstance;
  const logged: unknown[] = [];

  beforeAll(async () => {
    app = Fastify({ bodyLimit: 100 });
    installErrorHandler(app);
    app.addHook('onRequest', async (request) => {
      request.log.error = (...args: unknown[]) => {
        logged.push(args);
      };
    });
    app.get('/weft', async () => {
      throw new WeftError('conflict', 'segment exists', { id: 's1' });
    });
    app.get('/limited', async () => {
      throw new WeftError('rate_limited', 'slow down', undefined, 1.5);
    });
    app.get('/boom', async () => {
      throw new TypeError('x is undefined');
    });
    app.get('/string', async () => {
      throw 'not an error';
    });
    app.post(
      '/schema',
      {
        schema: {
          body: {
            type: 'object',
            required: ['events'],
            properties: {
              events: { type: 'array' },
              opts: { type: 'object', properties: { n: { type: 'integer' } } },
            },
          },
        },
      },
      async () => ({ ok: true }),
    );
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers a WeftError with its status and body', async () => {
    const res = await app.inject({ method: 'GET', url: '/weft' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      error: { code: 'conflict', message: 'segment exists', details: { id: 's1' } },
    });
  });

  it('sets Retry-After in whole seconds', async () => {
    const res = await app.inject({ method: 'GET', url: '/limited' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('2');
  });

  it('hides and logs unexpected errors as 500 internal', async () => {
    for (const url of ['/boom', '/string']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    }
    expect(logged).toHaveLength(2);
  });

  it('names the field of a schema validation failure', async () => {
    const missing = await app.inject({ method: 'POST', url: '/schema', payload: { x: 1 } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({
      error: { code: 'invalid', message: 'events: is required', details: { field: 'events' } },
    });
    const wrongType = await app.inject({
      method: 'POST',
      url: '/schema',
      payload: { events: [], opts: { n: 'x' } },
    });
    expect(wrongType.json().error).toEqual({
      code: 'invalid',
      message: 'opts.n: must be integer',
      details: { field: 'opts.n' },
    });
  });

  it('maps fastify body errors: bad JSON 400, too large 413, media type 415', async () => {
    const post = (payload: string, type = 'application/json') =>
      app.inject({ method: 'POST', url: '/schema', headers: { 'content-type': type }, payload });
    const badJson = await post('{"events":');
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error).toMatchObject({ code: 'invalid', details: { field: 'body' } });
    expect(badJson.json().error.message).toMatch(/^body: JSON parse failed/);
    const empty = await post('');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('invalid');
    const large = await post(JSON.stringify({ events: ['x'.repeat(200)] }));
    expect(large.statusCode).toBe(413);
    expect(large.json().error.code).toBe('too_large');
    const media = await post('<x/>', 'application/xml');
    expect(media.statusCode).toBe(415);
    expect(media.json().error.code).toBe('unsupported_media_type');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?secret=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /nope' } });
  });
});
