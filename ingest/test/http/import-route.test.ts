import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits, SECRET_KEY, type TestApp, testApp, WRITE_KEY } from '../helpers.js';

const DATASETS = '/work/shared/datasets';

/** Data lines counted independently of the importer: non-empty lines minus the header. */
function dataLines(text: string): number {
  return text.split('\n').filter((line) => line.trim().length > 0).length - 1;
}

describe('POST /v1/import', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.app.close());

  const importCsv = (url: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'text/csv', ...headers },
      payload,
    });

  it('imports simple-onlineshop.csv: every data line accepted', async () => {
    const text = readFileSync(`${DATASETS}/simple-onlineshop.csv`, 'utf8');
    expect(dataLines(text)).toBe(32_283);
    t.published.length = 0;
    const res = await importCsv(
      '/v1/import?map.distinct_id=user_id&map.event=event&map.time=timestamp',
      text,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: dataLines(text), rejected: [], rejected_count: 0 });
    const events = t.published.flat();
    expect(events).toHaveLength(32_283);
    expect(t.published.every((chunk) => chunk.length <= 5000)).toBe(true);
    expect(events[0]).toMatchObject({
      project: 'default',
      distinct_id: '219483890',
      event: 'catalog',
      time: Date.UTC(2019, 10, 1, 17, 59, 13, 273),
      properties: {},
    });
  });

  it('imports ecom.csv with a session column; other columns become properties', async () => {
    const text = readFileSync(`${DATASETS}/ecom.csv`, 'utf8');
    expect(dataLines(text)).toBe(31_106);
    t.published.length = 0;
    const res = await importCsv(
      '/v1/import?format=csv&map.distinct_id=user_id&map.event=event&map.time=timestamp&map.session_id=session_id',
      text,
    );
    expect(res.json()).toEqual({ accepted: dataLines(text), rejected: [], rejected_count: 0 });
    expect(t.published.flat()[0]).toMatchObject({
      distinct_id: 'user_0000',
      session_id: 'sess_000001',
      event: 'home',
      time: Date.UTC(2024, 2, 13, 10, 21, 14),
      properties: {
        platform: 'desktop',
        acquisition_channel: 'email',
        user_cohort: '2024-01',
        user_lifecycle: 'returning',
      },
    });
  });

  it('reports bad rows by line and keeps going', async () => {
    const csv =
      'user,event,time,note\r\nu1,a,1700000000,"x, ""y"""\r\nu2,,1700000000,\r\nu3,b,bad,\r\nu4,c,1700000001,"two\r\nlines"\r\nu5,d\r\n';
    const res = await importCsv('/v1/import?map.distinct_id=user&map.event=event&map.time=time', csv);
    expect(res.json()).toEqual({
      accepted: 2,
      rejected: [
        { line: 3, reason: 'event: must be a string of 1-200 characters' },
        {
          line: 4,
          reason:
            'time: "bad" is not epoch seconds or milliseconds or YYYY-MM-DD hh:mm:ss[.ffffff][Z|±hh:mm]',
        },
        { line: 7, reason: 'line has 2 fields, the header has 4' },
      ],
      rejected_count: 3,
    });
  });

  it('imports NDJSON chosen by Content-Type, with tz and event ids', async () => {
    t.published.length = 0;
    const body =
      '{"id":"e1","u":"a","e":"view","t":"2024-03-13 18:00:00","page":{"path":"/x"}}\n{"u":"b","e":"view","t":1710324000}\n';
    const res = await importCsv(
      '/v1/import?map.distinct_id=u&map.event=e&map.time=t&map.event_id=id&tz=Asia/Shanghai',
      body,
      {
        'content-type': 'application/x-ndjson',
      },
    );
    expect(res.json()).toEqual({ accepted: 2, rejected: [], rejected_count: 0 });
    const [first, second] = t.published.flat();
    expect(first).toMatchObject({
      event_id: 'e1',
      time: Date.UTC(2024, 2, 13, 10),
      properties: { 'page.path': '/x' },
    });
    expect(second.time).toBe(1_710_324_000_000);
  });

  it('needs the secret key', async () => {
    const url = '/v1/import?format=csv&map.distinct_id=u&map.event=e&map.time=t';
    const none = await importCsv(url, 'u,e,t\n', { authorization: '' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.message).toBe('missing secret key: send Authorization: Bearer <secret key>');
    const wrong = await importCsv(url, 'u,e,t\n', { authorization: 'Bearer nope' });
    expect(wrong.statusCode).toBe(401);
    const writeKey = await importCsv(url, 'u,e,t\n', { authorization: `Bearer ${WRITE_KEY}` });
    expect(writeKey.statusCode).toBe(403);
  });

  it('answers 400 naming the query parameter for a bad mapping or format', async () => {
    const noFormat = await importCsv('/v1/import?map.distinct_id=u&map.event=e&map.time=t', 'u,e,t\n', {
      'content-type': 'application/octet-stream',
    });
    expect(noFormat.statusCode).toBe(400);
    expect(noFormat.json().error.details).toEqual({ field: 'format' });
    const noEvent = await importCsv('/v1/import?map.distinct_id=u&map.time=t', 'u,e,t\n');
    expect(noEvent.json().error.details).toEqual({ field: 'map.event' });
    const notInHeader = await importCsv('/v1/import?map.distinct_id=u&map.event=name&map.time=t', 'u,e,t\n');
    expect(notInHeader.statusCode).toBe(400);
    expect(notInHeader.json().error.message).toBe('map.event: column "name" is not in the CSV header');
  });

  it('leaves JSON parsing of routes outside its scopes alone', async () => {
    const other = await testApp(limits, (app) => app.post('/echo', async (request) => request.body));
    const res = await other.app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(res.json()).toEqual({ a: 1 });
    await other.app.close();
  });
});
