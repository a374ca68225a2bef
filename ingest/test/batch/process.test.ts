import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../src/batch/process.js';
import type { BodyFormat, RawBatch } from '../../src/types.js';
import { keys, limits, NOW, WRITE_KEY, weftError } from '../helpers.js';

function raw(body: unknown, extra: Partial<RawBatch> = {}, format: BodyFormat = 'json'): RawBatch {
  const bytes = format === 'msgpack' ? pack(body) : new TextEncoder().encode(JSON.stringify(body));
  return { bytes, format, receivedAt: NOW, writeKey: WRITE_KEY, ...extra };
}

const good = { event: 'view', distinct_id: 'u1', time: NOW - 1000 };

describe('processBatch', () => {
  it('keeps good events and reports bad ones by index', () => {
    const out = processBatch(raw({ events: [good, { event: '' }, good, 7] }), keys, limits);
    expect(out.project).toBe('default');
    expect(out.events).toHaveLength(2);
    expect(out.result).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'event: must be a string of 1-200 characters' },
        { index: 3, reason: 'event: must be an object' },
      ],
    });
  });

  it('decodes msgpack and beacon bodies the same way', () => {
    for (const format of ['msgpack', 'beacon'] as const) {
      const out = processBatch(raw({ events: [good] }, {}, format), keys, limits);
      expect(out.result).toEqual({ accepted: 1, rejected: [] });
      expect(out.events[0]).toMatchObject({ event: 'view', distinct_id: 'u1', time: NOW - 1000 });
    }
  });

  it('takes the write key from the request, else from the body', () => {
    expect(
      processBatch(raw({ write_key: 'wk_other', events: [] }, { writeKey: undefined }), keys, limits).project,
    ).toBe('other');
    expect(processBatch(raw({ write_key: 'wk_other', events: [] }), keys, limits).project).toBe('default');
  });

  it('throws 401 for a missing or unknown key', () => {
    const missing = weftError(() => processBatch(raw({ events: [] }, { writeKey: undefined }), keys, limits));
    expect(missing.status).toBe(401);
    expect(missing.message).toMatch(/^missing write key/);
    const unknown = weftError(() => processBatch(raw({ events: [] }, { writeKey: 'nope' }), keys, limits));
    expect(unknown.code).toBe('unauthorized');
    expect(unknown.message).toBe('unknown write key');
  });

  it('throws 400 naming the field for a non-object body or non-array events', () => {
    for (const body of [[good], 'x', null, 3]) {
      expect(weftError(() => processBatch(raw(body), keys, limits)).message).toBe(
        'body: must be an object with an events array',
      );
    }
    const events = weftError(() => processBatch(raw({ events: { 0: good } }), keys, limits));
    expect(events.status).toBe(400);
    expect(events.message).toBe('events: must be an array');
    expect(events.details).toEqual({ field: 'events' });
  });

  it('throws 413 above maxBatchEvents', () => {
    const small = { ...limits, maxBatchEvents: 2 };
    expect(processBatch(raw({ events: [good, good] }), keys, small).result.accepted).toBe(2);
    const err = weftError(() => processBatch(raw({ events: [good, good, good] }), keys, small));
    expect(err.status).toBe(413);
    expect(err.code).toBe('too_large');
    expect(err.message).toBe('events: more than 2 events in one batch');
  });

  it('corrects client times by receivedAt - sent_at', () => {
    const sentAt = NOW - 10 * 60_000; // the client clock is ten minutes behind
    const out = processBatch(
      raw({
        sent_at: sentAt,
        events: [
          { ...good, time: sentAt - 5000 },
          { ...good, time: undefined },
        ],
      }),
      keys,
      limits,
    );
    expect(out.events.map((e) => e.time)).toEqual([NOW - 5000, NOW]);
    const iso = processBatch(
      raw({ sent_at: new Date(sentAt).toISOString(), events: [{ ...good, time: sentAt }] }),
      keys,
      limits,
    );
    expect(iso.events[0].time).toBe(NOW);
    expect(weftError(() => processBatch(raw({ sent_at: 'soon', events: [] }), keys, limits)).message).toBe(
      'sent_at: must be epoch milliseconds or an ISO 8601 time',
    );
  });

  it('enriches with the request ip and user agent', () => {
    const out = processBatch(
      raw({ events: [good] }, { ip: '10.0.0.1', userAgent: 'Mozilla/5.0' }),
      keys,
      limits,
    );
    expect(out.events[0].properties).toEqual({ $ip: '10.0.0.1', $user_agent: 'Mozilla/5.0' });
    expect(out.events[0].received_at).toBe(NOW);
  });
});
