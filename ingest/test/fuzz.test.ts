import { prng, WeftError } from '@weft/core';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBatch } from '../src/batch/process.js';
import type { BodyFormat } from '../src/types.js';
import { keys, limits, NOW, type TestApp, testApp, WRITE_KEY } from './helpers.js';

const random = prng(20240601);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];

const KEYS = [
  'event',
  'distinct_id',
  'time',
  'timestamp',
  'event_id',
  'session_id',
  'properties',
  '$set',
  '$set_once',
  'sent_at',
  'events',
  'write_key',
  '__proto__',
  '',
  '$url',
  '$referrer',
  'a.b',
  'x',
];
const STRINGS = [
  '',
  'a',
  '$pageview',
  '2024-06-01T00:00:00Z',
  '1717200000',
  'https://e.com/?utm_medium=cpc',
  '//x',
  'é中🙂',
  '\u0000',
  'x'.repeat(300),
  WRITE_KEY,
];
const NUMBERS = [0, -1, 1.5, 1717200000, NOW, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 946684799999];

function randomValue(depth: number): unknown {
  switch (int(depth > 3 ? 4 : 7)) {
    case 0:
      return pick(STRINGS);
    case 1:
      return pick(NUMBERS);
    case 2:
      return pick([true, false, null]);
    case 3:
      return String.fromCharCode(...Array.from({ length: int(12) }, () => int(0x3000)));
    case 4:
      return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = int(6); i > 0; i--) out[pick(KEYS)] = randomValue(depth + 1);
      return out;
    }
  }
}

let serial = 0;
function goodEvent(): Record<string, unknown> {
  return {
    event_id: `good-${serial++}`,
    event: pick(['$pageview', 'signup', '$click']),
    distinct_id: pick(['u1', 42, 'anon-🙂']),
    time: NOW - int(1e9),
    properties: { $url: pick(STRINGS.slice(4, 7)), n: int(100), nested: { ok: true, list: [1, 'a'] } },
  };
}

/** A batch mixing random junk with known-good events; returns it with the good event ids. */
function mixedBatch(): { body: Record<string, unknown>; good: string[] } {
  const events: unknown[] = [];
  const good: string[] = [];
  for (let i = int(20); i > 0; i--) {
    if (random() < 0.4) {
      const event = goodEvent();
      good.push(event.event_id as string);
      events.push(event);
    } else {
      const junk = randomValue(1);
      events.push(
        random() < 0.5 && typeof junk === 'object' && junk !== null ? { ...goodEvent(), ...junk } : junk,
      );
    }
  }
  return { body: { sent_at: random() < 0.5 ? NOW : undefined, events }, good };
}

function randomBytes(): Uint8Array {
  return Uint8Array.from({ length: int(120) }, () => int(256));
}

function encode(body: unknown, format: BodyFormat): Uint8Array {
  return format === 'msgpack' ? pack(body) : new TextEncoder().encode(JSON.stringify(body));
}

/** Runs processBatch and fails on anything thrown that is not a WeftError. */
function tryProcess(bytes: Uint8Array, format: BodyFormat) {
  try {
    return processBatch({ bytes, format, receivedAt: NOW, writeKey: WRITE_KEY }, keys, limits);
  } catch (err) {
    if (err instanceof WeftError) return err;
    throw err;
  }
}

const FORMATS: BodyFormat[] = ['json', 'msgpack', 'beacon'];

describe('fuzz: processBatch', () => {
  it('throws nothing but WeftError for random bytes', () => {
    for (let i = 0; i < 3000; i++) {
      const format = FORMATS[i % 3];
      const out = tryProcess(randomBytes(), format);
      if (out instanceof WeftError) expect(out.status).toBeLessThan(500);
    }
  });

  it('throws nothing but WeftError for random shapes, and mutated good bodies', () => {
    for (let i = 0; i < 3000; i++) {
      const format = FORMATS[i % 3];
      const bytes = encode(random() < 0.5 ? randomValue(0) : mixedBatch().body, format);
      if (i % 2 === 0) for (let flips = int(4) + 1; flips > 0; flips--) bytes[int(bytes.length)] = int(256);
      const out = tryProcess(bytes, format);
      if (out instanceof WeftError) expect(out.status).toBeLessThan(500);
    }
  });

  it('accepts every good event of a mixed batch and accounts for every event', () => {
    for (let i = 0; i < 2000; i++) {
      const format = FORMATS[i % 3];
      const { body, good } = mixedBatch();
      const out = tryProcess(encode(body, format), format);
      if (out instanceof WeftError) throw out;
      const events = body.events as unknown[];
      expect(out.result.accepted + out.result.rejected.length).toBe(events.length);
      const accepted = new Set(out.events.map((e) => e.event_id));
      for (const id of good) expect(accepted.has(id), id).toBe(true);
    }
  });
});

describe('fuzz: POST /v1/batch', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.app.close());

  it('never answers 500 and keeps the good events', async () => {
    const types: [string, BodyFormat][] = [
      ['application/json', 'json'],
      ['application/msgpack', 'msgpack'],
      ['text/plain', 'beacon'],
    ];
    for (let i = 0; i < 600; i++) {
      const [type, format] = types[i % 3];
      const kind = i % 3;
      const mixed = mixedBatch();
      const bytes = kind === 0 ? randomBytes() : encode(kind === 1 ? randomValue(0) : mixed.body, format);
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': type, 'x-write-key': WRITE_KEY },
        payload: Buffer.from(bytes),
      });
      expect(res.statusCode, res.body).not.toBe(500);
      expect([200, 400, 401, 413]).toContain(res.statusCode);
      const answer = res.json();
      if (res.statusCode !== 200) {
        expect(answer.error.code).toBeTypeOf('string');
        continue;
      }
      expect(answer.accepted).toBeTypeOf('number');
      if (kind === 2) {
        const rejected = new Set(answer.rejected.map((r: { index: number }) => r.index));
        const events = mixed.body.events as Record<string, unknown>[];
        events.forEach((event, index) => {
          if (mixed.good.includes(event?.event_id as string)) expect(rejected.has(index)).toBe(false);
        });
      }
    }
  });
});
