import type { WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../src/normalize/event.js';
import { context, NOW } from '../helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function ok(raw: unknown, ctx = context()): WeftEvent {
  const result = normalizeEvent(raw, ctx);
  if (typeof result === 'string') throw new Error(`rejected: ${result}`);
  return result;
}

describe('normalizeEvent', () => {
  it('builds the canonical event', () => {
    const event = ok({
      event_id: 'e-1',
      event: 'signup',
      distinct_id: 'u1',
      time: NOW - 1000,
      session_id: 's1',
      properties: { plan: 'pro' },
      $set: { name: 'Ann' },
      $set_once: { first_seen: 'x' },
      unknown_field: 'ignored',
    });
    expect(event).toEqual({
      event_id: 'e-1',
      project: 'default',
      event: 'signup',
      distinct_id: 'u1',
      time: NOW - 1000,
      received_at: NOW,
      session_id: 's1',
      properties: { plan: 'pro' },
      $set: { name: 'Ann' },
      $set_once: { first_seen: 'x' },
    });
  });

  it('generates a UUID event id, server time and empty properties when absent', () => {
    const event = ok({ event: 'a', distinct_id: 'u', event_id: null });
    expect(event.event_id).toMatch(UUID);
    expect(event.time).toBe(NOW);
    expect(event.properties).toEqual({});
    expect(event).not.toHaveProperty('session_id');
    expect(event).not.toHaveProperty('$set');
  });

  it('rejects anything but an object', () => {
    for (const raw of [null, 'x', 1, [], true])
      expect(normalizeEvent(raw, context())).toBe('event: must be an object');
  });

  it('requires event of 1-200 characters', () => {
    const reason = 'event: must be a string of 1-200 characters';
    for (const event of [undefined, '', 'e'.repeat(201), 5, null]) {
      expect(normalizeEvent({ event, distinct_id: 'u' }, context())).toBe(reason);
    }
    expect(ok({ event: 'e'.repeat(200), distinct_id: 'u' }).event).toHaveLength(200);
  });

  it('requires distinct_id of 1-200 characters and accepts numbers as text', () => {
    const reason = 'distinct_id: must be a string of 1-200 characters or a number';
    for (const distinct_id of [undefined, '', 'd'.repeat(201), {}, true, Number.NaN]) {
      expect(normalizeEvent({ event: 'a', distinct_id }, context())).toBe(reason);
    }
    expect(ok({ event: 'a', distinct_id: 219483890 }).distinct_id).toBe('219483890');
    expect(ok({ event: 'a', distinct_id: 2n ** 64n }).distinct_id).toBe('18446744073709551616');
  });

  it('validates a given event_id', () => {
    const reason = 'event_id: must be a string of 1-200 characters';
    for (const event_id of ['', 'i'.repeat(201), 12]) {
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', event_id }, context())).toBe(reason);
    }
  });

  describe('time', () => {
    it('accepts epoch milliseconds, epoch seconds and ISO text, and the timestamp alias', () => {
      expect(ok({ event: 'a', distinct_id: 'u', time: NOW - 5 }).time).toBe(NOW - 5);
      expect(ok({ event: 'a', distinct_id: 'u', time: (NOW - 5000) / 1000 }).time).toBe(NOW - 5000);
      expect(ok({ event: 'a', distinct_id: 'u', time: '2024-06-01T11:00:00.250Z' }).time).toBe(
        NOW - 3_599_750,
      );
      expect(ok({ event: 'a', distinct_id: 'u', time: '2024-06-01T13:00:00+02:00' }).time).toBe(
        NOW - 3_600_000,
      );
      expect(ok({ event: 'a', distinct_id: 'u', timestamp: '2024-06-01 10:00:00' }).time).toBe(
        NOW - 7_200_000,
      );
    });

    it('adds the clock skew to client times only', () => {
      const ctx = context({ skewMs: 60_000 });
      expect(ok({ event: 'a', distinct_id: 'u', time: NOW - 120_000 }, ctx).time).toBe(NOW - 60_000);
      expect(ok({ event: 'a', distinct_id: 'u' }, ctx).time).toBe(NOW);
    });

    it('rejects unparseable times naming the field used', () => {
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', time: 'yesterday' }, context())).toBe(
        'time: must be epoch milliseconds or an ISO 8601 time',
      );
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', timestamp: true }, context())).toBe(
        'timestamp: must be epoch milliseconds or an ISO 8601 time',
      );
      expect(
        normalizeEvent({ event: 'a', distinct_id: 'u', time: Number.POSITIVE_INFINITY }, context()),
      ).toBe('time: must be epoch milliseconds or an ISO 8601 time');
    });

    it('rejects times before 2000 or more than a day ahead of the server', () => {
      const reason = 'time: must be after 2000-01-01 and at most one day after the server time';
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', time: '1999-12-31T23:59:59Z' }, context())).toBe(
        reason,
      );
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', time: NOW + 86_400_001 }, context())).toBe(
        reason,
      );
      expect(ok({ event: 'a', distinct_id: 'u', time: NOW + 86_400_000 }).time).toBe(NOW + 86_400_000);
      expect(ok({ event: 'a', distinct_id: 'u', time: '2000-01-01T00:00:00Z' }).time).toBe(946_684_800_000);
      // a client clock three days ahead is corrected by the skew before the check
      const ahead = { event: 'a', distinct_id: 'u', time: NOW + 3 * 86_400_000 };
      expect(normalizeEvent({ ...ahead }, context())).toBe(reason);
      expect(ok({ ...ahead }, context({ skewMs: -3 * 86_400_000 })).time).toBe(NOW);
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', timestamp: 0 }, context())).toBe(
        'timestamp: must be after 2000-01-01 and at most one day after the server time',
      );
    });
  });

  describe('session_id', () => {
    it('takes the field, else properties.$session_id', () => {
      expect(ok({ event: 'a', distinct_id: 'u', session_id: 's1' }).session_id).toBe('s1');
      expect(ok({ event: 'a', distinct_id: 'u', properties: { $session_id: 's2' } }).session_id).toBe('s2');
      expect(
        ok({ event: 'a', distinct_id: 'u', session_id: 's1', properties: { $session_id: 's2' } }).session_id,
      ).toBe('s1');
      expect(ok({ event: 'a', distinct_id: 'u', session_id: 1718000000 }).session_id).toBe('1718000000');
      expect(ok({ event: 'a', distinct_id: 'u', session_id: '' })).not.toHaveProperty('session_id');
    });

    it('rejects bad session ids naming where they came from', () => {
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', session_id: 's'.repeat(201) }, context())).toBe(
        'session_id: must be a string of at most 200 characters or a number',
      );
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', session_id: {} }, context())).toBe(
        'session_id: must be a string of at most 200 characters or a number',
      );
      expect(
        normalizeEvent({ event: 'a', distinct_id: 'u', properties: { $session_id: true } }, context()),
      ).toBe('properties.$session_id: must be a string of at most 200 characters or a number');
    });
  });

  describe('properties, $set and $set_once', () => {
    it('must be objects', () => {
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', properties: [1] }, context())).toBe(
        'properties: must be an object',
      );
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', $set: 'x' }, context())).toBe(
        '$set: must be an object',
      );
      expect(normalizeEvent({ event: 'a', distinct_id: 'u', $set_once: 3 }, context())).toBe(
        '$set_once: must be an object',
      );
    });

    it('are flattened and validated naming the key', () => {
      const event = ok({
        event: 'a',
        distinct_id: 'u',
        properties: { a: { b: 1 } },
        $set: { p: { q: [1] } },
      });
      expect(event.properties).toEqual({ 'a.b': 1 });
      expect(event.$set).toEqual({ 'p.q': '[1]' });
      expect(
        normalizeEvent({ event: 'a', distinct_id: 'u', $set_once: { x: 'y'.repeat(8193) } }, context()),
      ).toBe('$set_once.x: string longer than 8192 characters');
      expect(
        normalizeEvent(
          { event: 'a', distinct_id: 'u', properties: { a: { b: { c: { d: { e: { f: 1 } } } } } } },
          context(),
        ),
      ).toBe('properties.a.b.c.d.e: nested deeper than 5 levels');
    });

    it('adopts flat input properties and enriches them', () => {
      const properties = { plan: 'pro' };
      const event = ok(
        { event: 'a', distinct_id: 'u', properties },
        context({ ip: '9.9.9.9', userAgent: 'UA' }),
      );
      expect(event.properties).toBe(properties);
      expect(event.properties).toEqual({ plan: 'pro', $ip: '9.9.9.9', $user_agent: 'UA' });
    });
  });

  describe('$identify', () => {
    it('validates $anon_distinct_id like distinct_id when present', () => {
      const event = ok({
        event: '$identify',
        distinct_id: 'user-1',
        properties: { $anon_distinct_id: 'anon-1' },
      });
      expect(event.properties.$anon_distinct_id).toBe('anon-1');
      expect(
        ok({ event: '$identify', distinct_id: 'u', properties: { $anon_distinct_id: 42 } }).properties,
      ).toEqual({
        $anon_distinct_id: '42',
      });
      const reason = 'properties.$anon_distinct_id: must be a string of 1-200 characters or a number';
      for (const anon of ['', 'a'.repeat(201), null, true]) {
        expect(
          normalizeEvent(
            { event: '$identify', distinct_id: 'u', properties: { $anon_distinct_id: anon } },
            context(),
          ),
        ).toBe(reason);
      }
      expect(ok({ event: '$identify', distinct_id: 'u' }).properties).toEqual({});
    });
  });
});
