import { describe, expect, it } from 'vitest';
import { CsvRowMapper, cellValue, ndjsonToEvent, parseImportQuery } from '../../src/import/mapping.js';
import { weftError } from '../helpers.js';

const base = { 'map.distinct_id': 'user_id', 'map.event': 'event', 'map.time': 'timestamp' };

describe('parseImportQuery', () => {
  it('reads the mapping, the format and the zone', () => {
    expect(
      parseImportQuery({ ...base, format: 'csv', 'map.session_id': 'sid', tz: 'Asia/Shanghai' }, undefined),
    ).toEqual({
      format: 'csv',
      columns: { distinct_id: 'user_id', event: 'event', time: 'timestamp', session_id: 'sid' },
      tz: 'Asia/Shanghai',
    });
  });

  it('takes the format from the Content-Type when the query has none', () => {
    expect(parseImportQuery(base, 'text/csv; charset=utf-8').format).toBe('csv');
    expect(parseImportQuery(base, 'application/x-ndjson').format).toBe('ndjson');
    expect(parseImportQuery({ ...base, format: 'ndjson' }, 'text/csv').format).toBe('ndjson');
  });

  it('throws 400 naming the query parameter', () => {
    const cases: [Record<string, unknown>, string | undefined, string][] = [
      [{ ...base, format: 'xml' }, undefined, 'format: must be csv or ndjson'],
      [
        base,
        'application/json',
        'format: must be csv or ndjson (or send Content-Type text/csv or application/x-ndjson)',
      ],
      [
        { 'map.event': 'e', 'map.time': 't', format: 'csv' },
        undefined,
        'map.distinct_id: is required (the column or key to read it from)',
      ],
      [{ ...base, 'map.time': '', format: 'csv' }, undefined, 'map.time: must be given once, non-empty'],
      [
        { ...base, 'map.event': ['a', 'b'], format: 'csv' },
        undefined,
        'map.event: must be given once, non-empty',
      ],
      [
        { ...base, 'map.user': 'u', format: 'csv' },
        undefined,
        'map.user: unknown field; map one of distinct_id, event, time, session_id, event_id',
      ],
      [{ ...base, format: 'csv', tz: 'Mars/Olympus' }, undefined, 'tz: unknown time zone "Mars/Olympus"'],
    ];
    for (const [query, contentType, message] of cases) {
      const err = weftError(() => parseImportQuery(query, contentType));
      expect(err.status).toBe(400);
      expect(err.message).toBe(message);
    }
  });
});

describe('CsvRowMapper', () => {
  const mapping = parseImportQuery({ ...base, 'map.session_id': 'session', format: 'csv' }, undefined);

  it('maps columns, types unmapped cells and omits empty ones', () => {
    const mapper = new CsvRowMapper(
      ['user_id', 'session', 'event', 'timestamp', 'price', 'code', 'note'],
      mapping,
    );
    expect(mapper.toEvent(['u1', 's1', 'buy', '2024-03-13 10:21:14', '-12.50', '0042', ''])).toEqual({
      distinct_id: 'u1',
      session_id: 's1',
      event: 'buy',
      time: Date.UTC(2024, 2, 13, 10, 21, 14),
      properties: { price: -12.5, code: 42 },
    });
    expect(mapper.toEvent(['u1', '', 'buy', '1710325274', '1e3', '1.', 'x'])).toEqual({
      distinct_id: 'u1',
      event: 'buy',
      time: 1710325274000,
      properties: { price: '1e3', code: '1.', note: 'x' },
    });
  });

  it('reads zone-less times in tz', () => {
    const shanghai = { ...mapping, tz: 'Asia/Shanghai' };
    const mapper = new CsvRowMapper(['user_id', 'session', 'event', 'timestamp'], shanghai);
    expect(mapper.toEvent(['u', 's', 'e', '2024-03-13 18:00:00'])).toMatchObject({
      time: Date.UTC(2024, 2, 13, 10),
    });
    expect(mapper.toEvent(['u', 's', 'e', '2024-03-13T18:00:00Z'])).toMatchObject({
      time: Date.UTC(2024, 2, 13, 18),
    });
  });

  it('reports ragged rows and missing or bad times', () => {
    const mapper = new CsvRowMapper(['user_id', 'session', 'event', 'timestamp'], mapping);
    expect(mapper.toEvent(['u', 's', 'e'])).toBe('line has 3 fields, the header has 4');
    expect(mapper.toEvent(['u', 's', 'e', ''])).toBe('time: "timestamp" is empty or missing');
    expect(mapper.toEvent(['u', 's', 'e', 'noon'])).toBe(
      'time: "noon" is not epoch seconds or milliseconds or YYYY-MM-DD hh:mm:ss[.ffffff][Z|±hh:mm]',
    );
  });

  it('throws 400 naming the mapping whose column is not in the header', () => {
    const err = weftError(() => new CsvRowMapper(['user_id', 'event', 'ts'], mapping));
    expect(err.message).toBe('map.time: column "timestamp" is not in the CSV header');
  });
});

describe('ndjsonToEvent', () => {
  const mapping = parseImportQuery({ ...base, 'map.event_id': 'id', format: 'ndjson' }, undefined);

  it('reads mapped keys and keeps every other key as a property', () => {
    expect(
      ndjsonToEvent(
        { id: 'e1', user_id: 7, event: 'buy', timestamp: 1710325274123, cart: { total: 3 }, tags: ['a'] },
        mapping,
      ),
    ).toEqual({
      event_id: 'e1',
      distinct_id: 7,
      event: 'buy',
      time: 1710325274123,
      properties: { cart: { total: 3 }, tags: ['a'] },
    });
  });

  it('rejects non-objects and missing times', () => {
    expect(ndjsonToEvent([1], mapping)).toBe('line: must be a JSON object');
    expect(ndjsonToEvent({ user_id: 'u', event: 'e' }, mapping)).toBe(
      'time: "timestamp" is empty or missing',
    );
    expect(ndjsonToEvent({ user_id: 'u', event: 'e', timestamp: {} }, mapping)).toBe(
      'time: object is not epoch seconds or milliseconds or YYYY-MM-DD hh:mm:ss[.ffffff][Z|±hh:mm]',
    );
  });
});

describe('cellValue', () => {
  it('turns plain finite decimals into numbers and keeps everything else as text', () => {
    expect(cellValue('12')).toBe(12);
    expect(cellValue('-0.5')).toBe(-0.5);
    for (const text of [
      '1e5',
      '+1',
      '.5',
      '5.',
      '1,000',
      '0x10',
      ' 1',
      'abc',
      '-',
      '2024-01',
      '9'.repeat(400),
    ]) {
      expect(cellValue(text), text).toBe(text);
    }
  });
});
