import { invalid, isTimeZone, parseTime } from '@weft/core';
import { isPlainObject } from '../normalize/properties.js';

export type ImportFormat = 'csv' | 'ndjson';

/** Event fields an import can take from a column (CSV) or key (NDJSON). */
const MAPPABLE = ['distinct_id', 'event', 'time', 'session_id', 'event_id'] as const;
type MappedField = (typeof MAPPABLE)[number];
const REQUIRED: readonly MappedField[] = ['distinct_id', 'event', 'time'];

export interface ImportMapping {
  format: ImportFormat;
  /** Source column or key per event field; unmapped sources become properties. */
  columns: Partial<Record<MappedField, string>>;
  /** IANA zone for times without an offset; UTC when absent. */
  tz?: string;
}

/** A source row turned into a wire event for normalizeEvent, or why it could not be. */
export type RowEvent = Record<string, unknown> | string;

/**
 * Reads `format`, `map.<field>` and `tz` from the query string (format may also come from the
 * Content-Type); throws a 400 naming the parameter.
 */
export function parseImportQuery(query: unknown, contentType: string | undefined): ImportMapping {
  // fastify's parsed query has a prototype of its own, so no isPlainObject here
  const params = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const columns: ImportMapping['columns'] = {};
  for (const name in params) {
    if (!name.startsWith('map.')) continue;
    const field = name.slice(4) as MappedField;
    if (!MAPPABLE.includes(field)) throw invalid(name, `unknown field; map one of ${MAPPABLE.join(', ')}`);
    columns[field] = single(params, name);
  }
  for (const field of REQUIRED) {
    if (columns[field] === undefined)
      throw invalid(`map.${field}`, 'is required (the column or key to read it from)');
  }
  const format = formatOf(params.format === undefined ? undefined : single(params, 'format'), contentType);
  const mapping: ImportMapping = { format, columns };
  if (params.tz !== undefined) {
    const tz = single(params, 'tz');
    if (!isTimeZone(tz)) throw invalid('tz', `unknown time zone "${tz}"`);
    mapping.tz = tz;
  }
  return mapping;
}

function single(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'must be given once, non-empty');
  return value;
}

function formatOf(param: string | undefined, contentType: string | undefined): ImportFormat {
  if (param === 'csv' || param === 'ndjson') return param;
  if (param !== undefined) throw invalid('format', 'must be csv or ndjson');
  const type = (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/x-ndjson' || type === 'application/ndjson') return 'ndjson';
  throw invalid('format', 'must be csv or ndjson (or send Content-Type text/csv or application/x-ndjson)');
}

/** Turns CSV records into wire events once the header is known. */
export class CsvRowMapper {
  private readonly mapped: [MappedField, number][] = [];
  private readonly properties: [string, number][] = [];
  private readonly width: number;

  /** Throws a 400 naming the `map.` parameter whose column is not in the header. */
  constructor(
    header: string[],
    private readonly mapping: ImportMapping,
  ) {
    const names = header.map((name) => name.trim());
    this.width = names.length;
    const used = new Set<number>();
    for (const field of MAPPABLE) {
      const column = mapping.columns[field];
      if (column === undefined) continue;
      const index = names.indexOf(column);
      if (index === -1) throw invalid(`map.${field}`, `column "${column}" is not in the CSV header`);
      this.mapped.push([field, index]);
      used.add(index);
    }
    names.forEach((name, index) => {
      if (!used.has(index) && name.length > 0) this.properties.push([name, index]);
    });
  }

  toEvent(fields: string[]): RowEvent {
    if (fields.length !== this.width) return `line has ${fields.length} fields, the header has ${this.width}`;
    const event: Record<string, unknown> = {};
    for (const [field, index] of this.mapped) {
      const cell = fields[index];
      if (cell.length > 0) event[field] = cell;
    }
    const time = mappedTime(event.time, this.mapping);
    if (typeof time === 'string') return time;
    event.time = time;
    const properties: Record<string, string | number> = {};
    for (const [name, index] of this.properties) {
      const cell = fields[index];
      if (cell.length > 0) properties[name] = cellValue(cell);
    }
    event.properties = properties;
    return event;
  }
}

/** Turns one NDJSON value into a wire event: mapped keys are read, all other keys become properties. */
export function ndjsonToEvent(value: unknown, mapping: ImportMapping): RowEvent {
  if (!isPlainObject(value)) return 'line: must be a JSON object';
  const event: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  const sources = new Map<string, MappedField>();
  for (const field of MAPPABLE) {
    const key = mapping.columns[field];
    if (key !== undefined) sources.set(key, field);
  }
  for (const key in value) {
    const field = sources.get(key);
    if (field === undefined) properties[key] = value[key];
    else event[field] = value[key];
  }
  const time = mappedTime(event.time, mapping);
  if (typeof time === 'string') return time;
  event.time = time;
  event.properties = properties;
  return event;
}

/** Import times are required and may need the `tz` of the import, which normalizeEvent does not know. */
function mappedTime(value: unknown, mapping: ImportMapping): number | string {
  const source = mapping.columns.time;
  if (value === undefined || value === null || value === '') return `time: "${source}" is empty or missing`;
  const time = parseTime(value, mapping.tz);
  if (time !== undefined) return time;
  const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value;
  return `time: ${shown} is not epoch seconds or milliseconds or YYYY-MM-DD hh:mm:ss[.ffffff][Z|±hh:mm]`;
}

/** A cell that is a plain finite decimal number becomes a number; anything else stays text. */
export function cellValue(cell: string): string | number {
  if (!isPlainDecimal(cell)) return cell;
  const n = Number(cell);
  return Number.isFinite(n) ? n : cell;
}

/** `-?\d+(\.\d+)?`, checked without a regex since it runs for every cell. */
function isPlainDecimal(text: string): boolean {
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const digitsStart = i;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i === digitsStart) return false;
  if (i === text.length) return true;
  if (text.charCodeAt(i) !== 46) return false;
  const fractionStart = ++i;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  return i > fractionStart && i === text.length;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
