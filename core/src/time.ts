export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export type Interval = 'hour' | 'day' | 'week' | 'month';

/** UTC day number (days since epoch) of a millisecond time. */
export function dayIndex(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses epoch seconds or milliseconds (numbers or numeric strings; values below 1e11 are
 * seconds) and `YYYY-MM-DD[ T]hh:mm:ss[.ffffff][Z|±hh:mm]`. A time without a zone is read
 * in `tz` (an IANA name), UTC when absent. Sub-millisecond digits are truncated.
 * Returns undefined when the text is not a time.
 */
export function parseTime(value: unknown, tz?: string): number | undefined {
  if (typeof value === 'number') return epochNumber(value);
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return undefined;
  const c = value.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    if (/^-?\d+(\.\d+)?$/.test(value)) return epochNumber(Number(value));
  }
  const m = TIME_RE.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] ? Number(m[4]) : 0;
  const minute = m[5] ? Number(m[5]) : 0;
  const second = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(wall).getUTCDate() !== day) return undefined;
  const zone = m[8];
  if (zone) {
    if (zone === 'Z') return wall;
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    return wall - sign * offset;
  }
  return tz ? wallToUtc(wall, tz) : wall;
}

function epochNumber(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  return Math.floor(Math.abs(n) < 1e11 ? n * 1000 : n);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws a RangeError for an unknown zone name. */
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `tz` from UTC at instant `ms`, in milliseconds (local = utc + offset). */
export function zoneOffset(ms: number, tz: string): number {
  if (tz === 'UTC') return 0;
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - (ms - (((ms % 1000) + 1000) % 1000));
}

/** The UTC instant of a wall-clock time (given as if it were UTC) in `tz`. */
export function wallToUtc(wall: number, tz: string): number {
  let utc = wall - zoneOffset(wall, tz);
  const again = wall - zoneOffset(utc, tz);
  if (again !== utc) utc = again;
  return utc;
}

/** Start (UTC ms) of the interval containing `ms`, with calendar boundaries in `tz`. */
export function bucketStart(ms: number, interval: Interval, tz = 'UTC'): number {
  const offset = tz === 'UTC' ? 0 : zoneOffset(ms, tz);
  const local = ms + offset;
  let start: number;
  switch (interval) {
    case 'hour':
      start = Math.floor(local / HOUR_MS) * HOUR_MS;
      break;
    case 'day':
      start = Math.floor(local / DAY_MS) * DAY_MS;
      break;
    case 'week': {
      const day = Math.floor(local / DAY_MS);
      // Day 0 (1970-01-01) was a Thursday; weeks start on Monday as in ClickHouse toMonday.
      start = (day - ((((day + 3) % 7) + 7) % 7)) * DAY_MS;
      break;
    }
    case 'month': {
      const d = new Date(local);
      start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      break;
    }
  }
  return tz === 'UTC' ? start : wallToUtc(start, tz);
}

/** Start of the interval after the one starting at `start`. */
export function nextBucket(start: number, interval: Interval, tz = 'UTC'): number {
  switch (interval) {
    case 'hour':
      return start + HOUR_MS;
    case 'day':
      return bucketStart(start + DAY_MS + HOUR_MS * 3, 'day', tz);
    case 'week':
      return bucketStart(start + 7 * DAY_MS + HOUR_MS * 3, 'week', tz);
    case 'month':
      return bucketStart(start + 32 * DAY_MS, 'month', tz);
  }
}

/** `YYYY-MM-DD` in `tz` for day-or-longer intervals, an ISO UTC time for hours. */
export function bucketLabel(start: number, interval: Interval, tz = 'UTC'): string {
  if (interval === 'hour') return new Date(start).toISOString();
  const local = start + (tz === 'UTC' ? 0 : zoneOffset(start, tz));
  return new Date(local).toISOString().slice(0, 10);
}
