import { prng, type WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { EventEncoder, RECORD_CONTROL } from '../../src/bus/event-codec.js';
import { checkRecord } from '../../src/bus/record-check.js';

function event(i: number, over: Partial<WeftEvent> = {}): WeftEvent {
  return {
    event_id: `id-${i}`,
    project: 'p',
    event: 'view',
    distinct_id: `u-${i}`,
    time: 1_700_000_000_000 + i,
    received_at: 1_700_000_000_000,
    session_id: 's',
    properties: { url: '/a', n: i, ok: true, none: null },
    $set: { plan: 'pro' },
    ...over,
  };
}

function encode(events: WeftEvent[]): Uint8Array {
  return new EventEncoder().encode('p', events, new Uint32Array(events.length * 2));
}

describe('checkRecord', () => {
  it('accepts what the encoder writes, and control records', () => {
    expect(checkRecord(encode([event(0), event(1)]))).toEqual({ ok: true });
    expect(checkRecord(new Uint8Array([RECORD_CONTROL, 0x80]))).toEqual({ ok: true });
  });

  it('names the unusable events of a readable record', () => {
    const check = checkRecord(encode([event(0), event(1, { time: Number.NaN }), event(2, { event: '' })]));
    expect(check).toEqual({
      ok: 'partial',
      bad: [
        { index: 1, reason: 'time is not a valid epoch millisecond value (NaN)' },
        { index: 2, reason: 'event name is empty' },
      ],
    });
  });

  it('rejects empty, unknown, truncated and trailing bytes with a reason', () => {
    const good = encode([event(0), event(1)]);
    expect(checkRecord(new Uint8Array())).toEqual({ ok: false, reason: 'empty record' });
    expect(checkRecord(new Uint8Array([9]))).toEqual({ ok: false, reason: 'unknown record type 9' });
    for (const cut of [5, 20, good.length - 3]) {
      const r = checkRecord(good.subarray(0, cut));
      expect(r.ok).toBe(false);
    }
    const longer = new Uint8Array(good.length + 2);
    longer.set(good);
    expect(checkRecord(longer)).toEqual({ ok: false, reason: 'record has 2 trailing bytes' });
  });

  it('never throws on corrupted records', () => {
    const good = encode([event(0), event(1), event(2)]);
    const random = prng(7);
    for (let round = 0; round < 2000; round++) {
      const bad = new Uint8Array(good);
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        bad[1 + Math.floor(random() * (bad.length - 1))] = Math.floor(random() * 256);
      }
      expect(() => checkRecord(bad)).not.toThrow();
    }
  });
});
