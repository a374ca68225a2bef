import type { PropValue } from '@weft/core';
import { bucketStarts } from '../query/buckets.js';
import {
  type EventsQuery,
  type EventsResponse,
  FIELDS,
  finishEvents,
  mergeEvents,
  NO_VALUE,
  OTHER,
  type SeriesPartial,
} from '../query/event-analysis.js';
import type { ClickHouse } from './client.js';
import { PROP_NULL, PROP_NUMBER, propText } from './insert.js';
import {
  bucketSql,
  eventsSource,
  PERSON,
  propValueOf,
  propValueSql,
  rangeSql,
  segmentSql,
  specSql,
  str,
  strArray,
} from './sql.js';

interface Row {
  s: number;
  b: number;
  bt: number;
  bx: string;
  bn: number;
  o: number;
  c: number;
  u: number;
  sm: number;
  n: number;
}

/** "type:text" of a value, the identity SQL folds on. */
function sqlKey(value: PropValue): string {
  return value === null
    ? `${PROP_NULL}:`
    : `${typeof value === 'string' ? 0 : typeof value === 'number' ? 1 : 2}:${propText(value)}`;
}

function innerSql(ch: ClickHouse, project: string, q: EventsQuery, keep: string[][] | undefined): string {
  const series = q.events.map((e, i) => `if(${specSql(e)}, ${i}, -1)`).join(', ');
  const names = [...new Set(q.events.map((e) => e.event))];
  const bd = q.breakdown === undefined ? null : propValueSql(q.breakdown);
  const metricProp =
    typeof q.metric === 'string' ? undefined : 'sum' in q.metric ? q.metric.sum : q.metric.avg;
  const mv = metricProp === undefined ? null : propValueSql(metricProp);
  const key = bd ? `concat(toString(${bd.type}), ':', if(${bd.type} = ${PROP_NULL}, '', ${bd.text}))` : "''";
  const fold = keep
    ? `NOT has(${`[${keep.map((k) => strArray(k.map((j) => (j === NO_VALUE ? `${PROP_NULL}:` : sqlKey(JSON.parse(j) as PropValue))))).join(', ')}]`}[s + 1], ${key})`
    : '0';
  return `SELECT arrayJoin(arrayFilter(x -> x >= 0, [${series}])) AS s, ${PERSON} AS person,
      ${bucketSql(q.interval, q.tz)} AS b,
      ${bd ? bd.type : PROP_NULL} AS bt0, ${bd ? bd.text : "''"} AS bx0, ${bd ? bd.number : '0'} AS bn0,
      ${fold} AS o,
      if(o, ${PROP_NULL}, bt0) AS bt, if(o OR bt0 = ${PROP_NULL}, '', bx0) AS bx, if(o OR bt0 != ${PROP_NUMBER}, 0, bn0) AS bn,
      ${mv ? `${mv.type} = ${PROP_NUMBER}` : '0'} AS has_m, ${mv ? mv.number : '0'} AS m
    FROM ${eventsSource(ch, project)}
    WHERE ${rangeSql(project, q.from, q.to)} AND event IN (${names.map(str).join(', ')}) AND ${segmentSql(ch, project, q.users)}`;
}

async function partials(ch: ClickHouse, project: string, q: EventsQuery, keep: string[][] | undefined) {
  const inner = innerSql(ch, project, q, keep);
  const agg = 'count() AS c, uniqExact(person) AS u, sumIf(m, has_m) AS sm, countIf(has_m) AS n';
  const [byBucket, totals] = await Promise.all([
    ch.rows<Row>(`SELECT s, b, bt, bx, bn, o, ${agg} FROM (${inner}) GROUP BY s, b, bt, bx, bn, o`),
    ch.rows<Row>(`SELECT s, 0 AS b, bt, bx, bn, o, ${agg} FROM (${inner}) GROUP BY s, bt, bx, bn, o`),
  ]);
  const starts = bucketStarts(q.from, q.to, q.interval, q.tz);
  const bucket = new Map(starts.map((t, i) => [t, i]));
  const out = new Map<string, SeriesPartial>();
  const partialFor = (r: Row): SeriesPartial => {
    const value = propValueOf(r.bt, r.bx, r.bn);
    const key = r.o ? OTHER : q.breakdown === undefined || value === null ? NO_VALUE : JSON.stringify(value);
    const id = `${r.s}\u0000${key}`;
    let p = out.get(id);
    if (!p) {
      p = {
        series: r.s,
        key,
        value: r.o ? null : value,
        points: new Array(starts.length * FIELDS).fill(0),
        total: [0, 0, 0, 0],
      };
      out.set(id, p);
    }
    return p;
  };
  for (const r of byBucket) {
    const p = partialFor(r);
    const o = bucket.get(r.b * 1000)! * FIELDS;
    p.points[o] = r.c;
    p.points[o + 1] = r.u;
    p.points[o + 2] = r.sm;
    p.points[o + 3] = r.n;
  }
  for (const r of totals) partialFor(r).total = [r.c, r.u, r.sm, r.n];
  return [...out.values()];
}

/**
 * Event analysis as SQL, post-processed by the same merge as the index's partials. `specs`
 * are the series as run (defined events expanded); `q.events` name them in the answer.
 */
export async function eventsSql(
  ch: ClickHouse,
  project: string,
  q: EventsQuery,
  specs: EventsQuery['events'] = q.events,
): Promise<EventsResponse> {
  const run = { ...q, events: specs };
  const done = finishEvents(q, [await partials(ch, project, run, undefined)]);
  if ('response' in done) return done.response;
  return mergeEvents({ ...q, keep: done.keep }, [await partials(ch, project, run, done.keep)]);
}
