import { describe, expect, it } from 'vitest';
import { type Cron, localToUtc, nextRun, parseCron } from '../src/cron.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** The next `n` runs after `from`. */
function runs(expression: string, from: string, n: number, tz = 'UTC'): string[] {
  const cron = parseCron(expression);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) out.push(iso((t = nextRun(cron, t, tz))));
  return out;
}

describe('parseCron', () => {
  const errors: Array<[string, string]> = [
    ['* * * *', 'schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['', 'schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 0'],
    ['61 * * * *', 'schedule: minute: 61 is out of range 0-59'],
    ['* 24 * * *', 'schedule: hour: 24 is out of range 0-23'],
    ['* * 0 * *', 'schedule: day of month: 0 is out of range 1-31'],
    ['* * * 13 *', 'schedule: month: 13 is out of range 1-12'],
    ['* * * * 8', 'schedule: day of week: 8 is out of range 0-7'],
    ['* * * FOO *', 'schedule: month: "FOO" is not a number or name'],
    ['x * * * *', 'schedule: minute: "x" is not a number'],
    ['*/0 * * * *', 'schedule: minute: a step must be at least 1'],
    ['*/x * * * *', 'schedule: minute: step "x" is not a number'],
    ['5-2 * * * *', 'schedule: minute: range 5-2 runs backwards'],
    ['1,,2 * * * *', 'schedule: minute: "" is not a value, range or step'],
    ['0 0 31 2 *', 'schedule: day of month: no selected day occurs in the selected months'],
    ['0 0 30,31 FEB *', 'schedule: day of month: no selected day occurs in the selected months'],
  ];
  it.each(errors)('%j', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(message);
  });

  it('reads lists, ranges, steps, names and macros', () => {
    const c: Cron = parseCron('0,30 9-17/4 1-5 * mon-FRI');
    expect(c.minutes).toEqual([0, 30]);
    expect(c.hours).toEqual([9, 13, 17]);
    expect([...c.daysOfMonth]).toEqual([1, 2, 3, 4, 5]);
    expect([...c.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('5/15 * * * *').minutes).toEqual([5, 20, 35, 50]);
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]);
    expect([...parseCron('0 0 * jan,Dec *').months]).toEqual([1, 12]);
    expect(parseCron('@daily').minutes).toEqual([0]);
    expect(parseCron('@HOURLY').hours).toHaveLength(24);
    expect(parseCron('0 0 31 2 MON').anyDayOfWeek).toBe(false);
    expect(() => parseCron('61 * * * *', 'segments[3].schedule')).toThrow(/^segments\[3\]\.schedule: minute/);
  });
});

describe('nextRun in UTC', () => {
  it('runs daily at 05:30, strictly after the given time', () => {
    expect(runs('30 5 * * *', '2024-01-01T00:00:00Z', 2)).toEqual([
      '2024-01-01T05:30:00.000Z',
      '2024-01-02T05:30:00.000Z',
    ]);
    expect(runs('30 5 * * *', '2024-01-01T05:30:00Z', 1)).toEqual(['2024-01-02T05:30:00.000Z']);
    expect(runs('30 5 * * *', '2024-01-01T05:29:59.999Z', 1)).toEqual(['2024-01-01T05:30:00.000Z']);
  });

  it('steps, weekdays, month ends and leap days', () => {
    expect(runs('*/15 * * * *', '2024-01-01T10:07:00Z', 3)).toEqual([
      '2024-01-01T10:15:00.000Z',
      '2024-01-01T10:30:00.000Z',
      '2024-01-01T10:45:00.000Z',
    ]);
    // 2024-01-05 is a Friday.
    expect(runs('0 9 * * MON-FRI', '2024-01-05T10:00:00Z', 2)).toEqual([
      '2024-01-08T09:00:00.000Z',
      '2024-01-09T09:00:00.000Z',
    ]);
    expect(runs('0 0 31 * *', '2024-01-31T00:00:00Z', 2)).toEqual([
      '2024-03-31T00:00:00.000Z',
      '2024-05-31T00:00:00.000Z',
    ]);
    expect(runs('0 0 29 2 *', '2024-03-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(runs('0 0 29 2 *', '2096-03-01T00:00:00Z', 1)).toEqual(['2104-02-29T00:00:00.000Z']);
  });

  it('matches either day field when both are restricted (Vixie rule)', () => {
    // Friday the 13th or any Friday or any 13th; 2024-09-13 is a Friday.
    expect(runs('0 0 13 * FRI', '2024-09-01T00:00:00Z', 4)).toEqual([
      '2024-09-06T00:00:00.000Z',
      '2024-09-13T00:00:00.000Z',
      '2024-09-20T00:00:00.000Z',
      '2024-09-27T00:00:00.000Z',
    ]);
    expect(runs('0 0 13 10 FRI', '2024-09-01T00:00:00Z', 2)).toEqual([
      '2024-10-04T00:00:00.000Z',
      '2024-10-11T00:00:00.000Z',
    ]);
  });

  it('never skips a matching minute (brute force over random expressions)', () => {
    const expressions = [
      '7,37 */5 * * *',
      '0 0 1,15 * *',
      '*/10 3-4 * 2-3 1',
      '59 23 31 12 *',
      '0 12 * * 0,6',
      '15 6 10-20/3 * *',
    ];
    let t = at('2024-01-30T22:10:00Z');
    for (const expression of expressions) {
      const cron = parseCron(expression);
      for (let k = 0; k < 5; k++) {
        const next = nextRun(cron, t);
        const matches = (ms: number): boolean => {
          const d = new Date(ms);
          return (
            cron.minutes.includes(d.getUTCMinutes()) &&
            cron.hours.includes(d.getUTCHours()) &&
            cron.months.has(d.getUTCMonth() + 1) &&
            cron.daysOfMonth.has(d.getUTCDate()) &&
            cron.daysOfWeek.has(d.getUTCDay())
          );
        };
        const dayFieldsAnd = cron.anyDayOfMonth || cron.anyDayOfWeek;
        expect(next).toBeGreaterThan(t);
        if (dayFieldsAnd) {
          expect(matches(next), `${expression} at ${iso(next)}`).toBe(true);
          for (let m = Math.floor(t / 60_000) * 60_000 + 60_000; m < next; m += 60_000) {
            if (matches(m)) throw new Error(`${expression}: ${iso(m)} matches before ${iso(next)}`);
          }
        }
        t = next;
      }
    }
  });
});

describe('nextRun in a time zone', () => {
  it('reads the fields as wall-clock time in tz', () => {
    expect(runs('30 5 * * *', '2024-01-01T00:00:00Z', 2, 'Asia/Shanghai')).toEqual([
      '2024-01-01T21:30:00.000Z',
      '2024-01-02T21:30:00.000Z',
    ]);
    expect(runs('0 9 * * 1', '2024-07-01T00:00:00Z', 1, 'Europe/Paris')).toEqual([
      '2024-07-01T07:00:00.000Z',
    ]);
  });

  it('moves a wall time skipped by spring-forward past the gap', () => {
    // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT.
    expect(runs('30 2 * * *', '2024-03-09T12:00:00Z', 3, 'America/New_York')).toEqual([
      '2024-03-10T07:30:00.000Z',
      '2024-03-11T06:30:00.000Z',
      '2024-03-12T06:30:00.000Z',
    ]);
  });

  it('runs a wall time repeated by fall-back once, at its first occurrence', () => {
    // New York, 2024-11-03: 02:00 EDT goes back to 01:00 EST.
    expect(runs('30 1 * * *', '2024-11-03T04:00:00Z', 2, 'America/New_York')).toEqual([
      '2024-11-03T05:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
    expect(runs('0,30 * * * *', '2024-11-03T04:45:00Z', 4, 'America/New_York')).toEqual([
      '2024-11-03T05:00:00.000Z',
      '2024-11-03T05:30:00.000Z',
      '2024-11-03T07:00:00.000Z',
      '2024-11-03T07:30:00.000Z',
    ]);
  });

  it('localToUtc resolves gaps forward and overlaps to the earlier instant', () => {
    expect(iso(localToUtc(Date.UTC(2024, 2, 10, 2, 30), 'America/New_York'))).toBe(
      '2024-03-10T07:30:00.000Z',
    );
    expect(iso(localToUtc(Date.UTC(2024, 10, 3, 1, 30), 'America/New_York'))).toBe(
      '2024-11-03T05:30:00.000Z',
    );
    expect(iso(localToUtc(Date.UTC(2024, 0, 1, 12), 'Asia/Kolkata'))).toBe('2024-01-01T06:30:00.000Z');
    expect(localToUtc(123_456, 'UTC')).toBe(123_456);
  });
});
