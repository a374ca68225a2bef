import { describe, expect, it } from 'vitest';
import { majorityType } from '../../src/segments/event-catalog.js';
import { harness } from './helpers.js';

const T0 = Date.UTC(2026, 0, 10);

function catalog(h: ReturnType<typeof harness>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    h.segments.eventCatalog.read().map(([event, props]) => [event, Object.fromEntries(props)]),
  );
}

describe('EventCatalog', () => {
  it('lists the properties of each event with their majority type, and keeps up with new rows', () => {
    const h = harness(T0);
    h.send([
      { event: 'buy', distinct_id: 'a', properties: { price: 5, sku: 'x' } },
      { event: 'buy', distinct_id: 'b', properties: { price: 'free' } },
      { event: 'buy', distinct_id: 'c', properties: { price: 7, gift: null } },
      { event: '$click', distinct_id: 'a', properties: { $el_text: 'Buy' } },
      { event: 'visit', distinct_id: 'a' },
    ]);
    expect(catalog(h)).toEqual({
      buy: { price: 'number', sku: 'string', gift: 'string' },
      $click: { $el_text: 'string' },
      visit: {},
    });
    // Only rows added since are read, and they count toward the types.
    h.send([
      { event: 'buy', distinct_id: 'd', properties: { gift: true } },
      { event: 'visit', distinct_id: 'd', properties: { ref: 'ad' } },
    ]);
    expect(catalog(h)).toMatchObject({ buy: { gift: 'boolean' }, visit: { ref: 'string' } });
  });

  it('picks the type most values have, number before string before boolean on ties', () => {
    expect(majorityType(0, 0, 0)).toBe('string');
    expect(majorityType(2, 2, 2)).toBe('number');
    expect(majorityType(3, 1, 3)).toBe('string');
    expect(majorityType(1, 1, 3)).toBe('boolean');
  });
});
