import { DAY_MS, invalid, zoneOffset } from '@weft/core';

/**
 * A parsed 5-field cron expression (minute hour day-of-month month day-of-week), as Vixie
 * cron reads it: lists (`1,15`), ranges (`1-5`), steps (`*\/15`, `0-30/10`, `5/15` = 5 to
 * the end by 15), names (`JAN`–`DEC`, `SUN`–`SAT`, any case), day of week 0–7 with 0 and 7
 * both Sunday, and the macros @yearly, @annually, @monthly, @weekly, @daily, @midnight,
 * @hourly. When both day fields are restricted a day matches if either does (Vixie rule);
 * otherwise both must.
 */
export interface Cron {
  readonly expression: string;
  /** Ascending values of each field; day of week uses 0–6. */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether the day-of-month / day-of-week field started with `*`. */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for min, min + 1, … */
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Longest month length, February counted as 29 so leap days are reachable. */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

class FieldError extends Error {}

function fieldValue(text: string, spec: FieldSpec): number {
  let n: number;
  if (/^\d+$/.test(text)) n = Number(text);
  else {
    const i = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    if (i < 0) throw new FieldError(`"${text}" is not a number${spec.names ? ' or name' : ''}`);
    n = spec.min + i;
  }
  if (n < spec.min || n > spec.max) {
    throw new FieldError(`${text} is out of range ${spec.min}-${spec.max}`);
  }
  return n;
}

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(item);
    if (!m) throw new FieldError(`"${item}" is not a value, range or step`);
    const base = m[1]!;
    const stepText: string | undefined = m[2];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) throw new FieldError(`step "${stepText}" is not a number`);
      step = Number(stepText);
      if (step < 1) throw new FieldError('a step must be at least 1');
    }
    let lo: number;
    let hi: number;
    if (base === '*') {
      lo = spec.min;
      hi = spec.max;
    } else {
      const dash = base.indexOf('-');
      lo = fieldValue(dash < 0 ? base : base.slice(0, dash), spec);
      // `5/15` runs from 5 to the end of the field, as in Vixie cron.
      hi = dash < 0 ? (stepText === undefined ? lo : spec.max) : fieldValue(base.slice(dash + 1), spec);
      if (hi < lo) throw new FieldError(`range ${base} runs backwards`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Parses a cron expression; a bad one throws WeftError('invalid') naming `path` and the
 * field, e.g. `schedule: hour: 24 is out of range 0-23`.
 */
export function parseCron(expression: string, path = 'schedule'): Cron {
  const text = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) {
    throw invalid(
      path,
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${text === '' ? 0 : parts.length}`,
    );
  }
  const fields = FIELDS.map((spec, i) => {
    try {
      return parseField(parts[i]!, spec);
    } catch (err) {
      if (err instanceof FieldError) throw invalid(path, `${spec.name}: ${err.message}`);
      throw err;
    }
  });
  const [minutes, hours, dom, months, dow] = fields as [number[], number[], number[], number[], number[]];
  const cron: Cron = {
    expression,
    minutes,
    hours,
    daysOfMonth: new Set(dom),
    months: new Set(months),
    daysOfWeek: new Set(dow.map((d) => d % 7)),
    anyDayOfMonth: parts[2]!.startsWith('*'),
    anyDayOfWeek: parts[4]!.startsWith('*'),
  };
  // With the day of week unrestricted, `31` in February-only would never run: say so now.
  if (cron.anyDayOfWeek && !months.some((m) => dom.some((d) => d <= MONTH_DAYS[m - 1]!))) {
    throw invalid(path, 'day of month: no selected day occurs in the selected months');
  }
  return cron;
}

function dayMatches(cron: Cron, date: Date): boolean {
  if (!cron.months.has(date.getUTCMonth() + 1)) return false;
  const dom = cron.daysOfMonth.has(date.getUTCDate());
  const dow = cron.daysOfWeek.has(date.getUTCDay());
  if (cron.anyDayOfMonth || cron.anyDayOfWeek) return dom && dow;
  return dom || dow;
}

/**
 * The instant of a wall-clock time in `tz` (the wall time given as if it were UTC), resolved
 * like Temporal's "compatible" disambiguation: a time that occurs twice (clocks set back)
 * is its first occurrence; one that does not occur (clocks set forward) moves forward by
 * the length of the gap (02:30 on a spring-forward night is 03:30).
 */
export function localToUtc(wall: number, tz: string): number {
  if (tz === 'UTC') return wall;
  const before = zoneOffset(wall - DAY_MS, tz);
  const after = zoneOffset(wall + DAY_MS, tz);
  const early = wall - before;
  const late = wall - after;
  const earlyOk = zoneOffset(early, tz) === before;
  const lateOk = zoneOffset(late, tz) === after;
  if (earlyOk && lateOk) return Math.min(early, late);
  if (lateOk) return late;
  return early;
}

const MINUTE_MS = 60_000;
/** Enough days to reach any Feb 29 (at most 8 years apart across a skipped leap year). */
const MAX_SEARCH_DAYS = 9 * 366;

/**
 * The first run strictly after `after` (ms), with the fields read as wall-clock time in `tz`
 * (an IANA name). A wall time that occurs twice when clocks go back runs once, at its first
 * occurrence; one skipped when clocks go forward runs as localToUtc resolves it.
 */
export function nextRun(cron: Cron, after: number, tz = 'UTC'): number {
  const startWall = Math.floor((after + zoneOffset(after, tz)) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const startDay = Math.floor(startWall / DAY_MS);
  for (let day = startDay; day <= startDay + MAX_SEARCH_DAYS; day++) {
    const date = new Date(day * DAY_MS);
    if (!dayMatches(cron, date)) continue;
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        const wall = day * DAY_MS + hour * 3_600_000 + minute * MINUTE_MS;
        if (wall < startWall) continue;
        const at = localToUtc(wall, tz);
        if (at > after) return at;
      }
    }
  }
  // parseCron rejects day combinations that never occur, so the search always ends above.
  throw new Error(`cron "${cron.expression}" has no run after ${new Date(after).toISOString()}`);
}
