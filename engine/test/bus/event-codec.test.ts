import type { WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { EventEncoder, EventRecord, NONE, RECORD_EVENTS } from '../../src/bus/event-codec.js';

const events: WeftEvent[] = [
  {
    event_id: 'a-1',
    project: 'shop',
    event: '$click',
    distinct_id: 'u-1',
    time: 1_700_000_000_123,
    received_at: 1_700_000_000_500,
    session_id: 's-1',
    properties: {
      $el_text: '买 ✓',
      price: 12.5,
      big: 2 ** 40,
      ok: true,
      no: false,
      none: null,
      $el_tag: 'button',
    },
    $set: { plan: 'pro' },
  },
  {
    event_id: 'a-2-é',
    project: 'shop',
    event: '$click',
    distinct_id: 'u-2',
    time: 1_700_000_001_000,
    received_at: 1_700_000_001_000,
    properties: {},
    $set_once: { first: '$click' },
  },
  {
    event_id: 'a-3',
    project: 'shop',
    event: 'buy',
    distinct_id: 'u-1',
    time: -1,
    received_at: 0,
    properties: { price: -0.25, $el_tag: 'button' },
  },
];

describe('event codec', () => {
  it('round-trips events, their types and their order', () => {
    const hashes = Uint32Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = new EventEncoder().encode('shop', events, hashes);
    expect(bytes[0]).toBe(RECORD_EVENTS);
    const rec = new EventRecord(bytes);
    expect(rec.project).toBe('shop');
    expect(rec.count).toBe(3);
    expect(rec.toEvents()).toEqual(events);
    // All ASCII: the tables are copied whole, not string by string.
    const ascii = new EventRecord(new EventEncoder().encode('shop', events.slice(2), hashes.subarray(4)));
    expect(ascii.toEvents()).toEqual(events.slice(2));
  });

  it('stores each distinct string once and lets a visitor walk events without objects', () => {
    const encoder = new EventEncoder();
    const bytes = encoder.encode('shop', events, new Uint32Array(6));
    const rec = new EventRecord(bytes);
    // project, 2 event names, 2 distinct ids, 1 session, keys and string values, each once.
    const all = Array.from({ length: rec.strings.count }, (_, i) => rec.strings.get(i));
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((s) => s === 'button')).toHaveLength(1);
    const seen: string[] = [];
    rec.visit({
      event: (time, _hi, _lo, ev, who, session) => {
        seen.push(
          `${rec.strings.get(ev)}@${time} by ${rec.strings.get(who)} in ${session === NONE ? '-' : rec.strings.get(session)}`,
        );
        return time >= 0;
      },
      prop: (key, _type, str, num) =>
        seen.push(`  ${rec.strings.get(key)}=${str === NONE ? num : rec.strings.get(str)}`),
      end: () => seen.push('  end'),
    });
    expect(seen[0]).toBe('$click@1700000000123 by u-1 in s-1');
    expect(seen).toContain('  price=12.5');
    expect(seen).toContain('buy@-1 by u-1 in -');
    // A skipped event gets no property or end callbacks.
    expect(seen[seen.length - 1]).toBe('buy@-1 by u-1 in -');
    // The encoder is reusable: a second record is independent of the first.
    expect(new EventRecord(encoder.encode('shop', events.slice(1), new Uint32Array(4))).toEvents()).toEqual(
      events.slice(1),
    );
  });
});
