// @vitest-environment happy-dom
import { unpack } from 'msgpackr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BEACON_MAX_BYTES, sendOnUnload } from '../src/browser/transport.js';
import { batchBody, beaconBodies, utf8Length } from '../src/encode.js';
import { encodeMsgpack } from '../src/msgpack.js';
import { Queue } from '../src/queue.js';
import { memoryStore } from '../src/storage.js';
import { event } from './helpers.js';

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe('beacon bodies', () => {
  it('counts UTF-8 bytes like the browser does', () => {
    for (const s of ['abc', 'héllo', '页面浏览', 'emoji 😀 ok', '\u0800\u07ff'])
      expect(utf8Length(s)).toBe(bytes(s));
  });

  it('splits events into valid bodies under the quota, in order, none lost', () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      event('$click', { $el_text: `页面 ${i} ${'x'.repeat(500)}` }),
    );
    const bodies = beaconBodies('wk', events, BEACON_MAX_BYTES, 123);
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) {
      expect(bytes(b.body)).toBeLessThanOrEqual(BEACON_MAX_BYTES);
      const parsed = JSON.parse(b.body);
      expect(parsed).toMatchObject({ sent_at: 123, write_key: 'wk' });
      expect(parsed.events).toEqual(b.events);
    }
    expect(bodies.flatMap((b) => b.events)).toEqual(events);
  });

  it('leaves out an event larger than any beacon', () => {
    const big = event('big', { blob: 'y'.repeat(70_000) });
    const small = event();
    const bodies = beaconBodies('wk', [big, small], BEACON_MAX_BYTES, 1);
    expect(bodies.flatMap((b) => b.events)).toEqual([small]);
  });
});

describe('unload send', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('beacons under the quota, falls back to fetch keepalive, and keeps every event for the next page', () => {
    const queue = new Queue(memoryStore(), 'weft:k:', {
      leaseMs: 1000,
      confirmMs: 5,
      maxEvents: 1000,
      now: Date.now,
    });
    const events = Array.from({ length: 200 }, () => event('$click', { t: 'z'.repeat(500) }));
    for (const e of events) queue.push(e);
    const inFlight = queue.take(10);
    const beacons: string[] = [];
    const sendBeacon = vi.fn((_url: string, body: string) => {
      beacons.push(body);
      return beacons.length === 1;
    });
    const fetch = vi.fn(async () => new Response('{}'));
    vi.stubGlobal('navigator', { ...navigator, sendBeacon });
    vi.stubGlobal('fetch', fetch);
    sendOnUnload('https://c.example/v1/batch', 'wk', queue);
    expect(beacons.length).toBeGreaterThan(1);
    for (const b of beacons) expect(bytes(b)).toBeLessThanOrEqual(BEACON_MAX_BYTES);
    const sent = beacons.flatMap((b) => JSON.parse(b).events.map((e: { event_id: string }) => e.event_id));
    expect(sent).toEqual(events.slice(10).map((e) => e.event_id));
    expect(fetch).toHaveBeenCalledTimes(beacons.length - 1);
    expect(fetch.mock.calls[0]).toMatchObject([
      'https://c.example/v1/batch',
      { keepalive: true, method: 'POST', credentials: 'omit' },
    ]);
    queue.release(inFlight);
    expect(queue.take(1000)).toEqual(events);
  });
});

describe('batch encodings', () => {
  it('JSON goes as CORS-simple text/plain with the write key in the body', () => {
    const b = batchBody('wk', [event()], 'json', 42);
    expect(b.type).toBe('text/plain');
    expect(JSON.parse(b.body as string)).toMatchObject({ sent_at: 42, write_key: 'wk' });
  });

  it('msgpack decodes to the same batch', () => {
    const events = [
      event('$click', {
        s: 'héllo 页面 😀',
        n: -1,
        m: -200,
        k: -70_000,
        big: -3_000_000_000,
        f: 0.25,
        t: true,
        x: null,
        u: 65_535,
      }),
      event('long', { s: 'x'.repeat(70_000), w: 4_294_967_295, l: 1_700_000_000_123 }),
    ];
    const b = batchBody('wk', events, 'msgpack', 1_700_000_000_000);
    expect(b.type).toBe('application/msgpack');
    expect(unpack(b.body as Uint8Array)).toEqual({ sent_at: 1_700_000_000_000, write_key: 'wk', events });
  });

  it('msgpack handles every header size', () => {
    const v = {
      a: Array.from({ length: 20 }, (_, i) => i * 300),
      o: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'.repeat(i * 20)])),
    };
    expect(unpack(encodeMsgpack(v))).toEqual(v);
  });
});
