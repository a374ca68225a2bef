import { describe, expect, it } from 'vitest';
import { bucketLabel, bucketStart, nextBucket, parseTime, wallToUtc, zoneOffset } from '../src/time.js';

describe('parseTime', () => {
  it.each([
    [1732200000, 1732200000000],
    [1732200000123, 1732200000123],
    ['1732200000', 1732200000000],
    ['1732200000.5', 1732200000500],
    ['2019-11-01 17:59:13.273932', Date.UTC(2019, 10, 1, 17, 59, 13, 273)],
    ['2024-03-13T10:21:14Z', Date.UTC(2024, 2, 13, 10, 21, 14)],
    ['2024-03-13T10:21:14+08:00', Date.UTC(2024, 2, 13, 2, 21, 14)],
    ['2024-03-13T10:21:14-0530', Date.UTC(2024, 2, 13, 15, 51, 14)],
    ['2024-03-13', Date.UTC(2024, 2, 13)],
  ])('reads %j', (input, expected) => {
    expect(parseTime(input)).toBe(expected);
  });

  it.each(['', 'yesterday', '2024-02-30', '2024-13-01', '2024-03-13 25:00:00', NaN, Infinity, {}, null])(
    'rejects %j',
    (input) => {
      expect(parseTime(input)).toBeUndefined();
    },
  );

  it('reads zone-less times in the given zone, across a DST change', () => {
    expect(parseTime('2024-03-13 10:00:00', 'Asia/Shanghai')).toBe(Date.UTC(2024, 2, 13, 2));
    expect(parseTime('2024-03-09 12:00:00', 'America/New_York')).toBe(Date.UTC(2024, 2, 9, 17));
    expect(parseTime('2024-03-11 12:00:00', 'America/New_York')).toBe(Date.UTC(2024, 2, 11, 16));
  });
});

describe('buckets', () => {
  const t = Date.UTC(2024, 2, 13, 10, 21, 14);
  it('starts hours, days, Monday weeks and months in UTC', () => {
    expect(bucketStart(t, 'hour')).toBe(Date.UTC(2024, 2, 13, 10));
    expect(bucketStart(t, 'day')).toBe(Date.UTC(2024, 2, 13));
    expect(bucketStart(t, 'week')).toBe(Date.UTC(2024, 2, 11));
    expect(bucketStart(Date.UTC(2024, 2, 11), 'week')).toBe(Date.UTC(2024, 2, 11));
    expect(bucketStart(Date.UTC(2024, 2, 10, 23, 59), 'week')).toBe(Date.UTC(2024, 2, 4));
    expect(bucketStart(t, 'month')).toBe(Date.UTC(2024, 2, 1));
  });

  it('uses the calendar of a zone', () => {
    // 2024-03-13 20:00 UTC is already the 14th in Shanghai.
    const late = Date.UTC(2024, 2, 13, 20);
    const start = bucketStart(late, 'day', 'Asia/Shanghai');
    expect(start).toBe(Date.UTC(2024, 2, 13, 16));
    expect(bucketLabel(start, 'day', 'Asia/Shanghai')).toBe('2024-03-14');
    expect(nextBucket(start, 'day', 'Asia/Shanghai')).toBe(Date.UTC(2024, 2, 14, 16));
    // A New York day that loses an hour to DST is 23 hours long.
    const dstDay = bucketStart(Date.UTC(2024, 2, 10, 12), 'day', 'America/New_York');
    expect(nextBucket(dstDay, 'day', 'America/New_York') - dstDay).toBe(23 * 3_600_000);
  });

  it('steps months of different lengths and labels hours as ISO times', () => {
    expect(nextBucket(Date.UTC(2024, 1, 1), 'month')).toBe(Date.UTC(2024, 2, 1));
    expect(nextBucket(Date.UTC(2024, 11, 1), 'month')).toBe(Date.UTC(2025, 0, 1));
    expect(bucketLabel(Date.UTC(2024, 2, 13, 10), 'hour')).toBe('2024-03-13T10:00:00.000Z');
  });

  it('converts wall time and offsets consistently', () => {
    const wall = Date.UTC(2024, 6, 1, 9);
    const utc = wallToUtc(wall, 'Europe/Berlin');
    expect(utc).toBe(Date.UTC(2024, 6, 1, 7));
    expect(zoneOffset(utc, 'Europe/Berlin')).toBe(2 * 3_600_000);
  });
});
