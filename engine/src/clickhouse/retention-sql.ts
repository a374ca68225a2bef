import { bucketStarts } from '../query/buckets.js';
import { mergeRetention, type RetentionQuery, type RetentionResponse } from '../query/retention.js';
import type { ClickHouse } from './client.js';
import { bucketSql, eventsSource, PERSON, rangeSql, segmentSql, specSql, str } from './sql.js';

/**
 * Retention as SQL: per person the periods with a start and with a return event, then per
 * cohort period c the persons in it and how many have a return in c + k. (ClickHouse
 * 18.16's retention() sets only the first true condition of a row, so arrays are used.)
 */
export async function retentionSql(
  ch: ClickHouse,
  project: string,
  q: RetentionQuery,
): Promise<RetentionResponse> {
  const starts = bucketStarts(q.from, q.to, q.period, q.tz);
  const interval = q.period === 'day' ? 'day' : 'week';
  const startArr = `[${starts.map((s) => Math.floor(s / 1000)).join(', ')}]`;
  const names = [...new Set([q.start.event, q.return.event])];
  const inner = `SELECT ${PERSON} AS person, indexOf(${startArr}, ${bucketSql(interval, q.tz)}) - 1 AS p,
      ${specSql(q.start)} AS is_start, ${specSql(q.return)} AS is_return
    FROM ${eventsSource(ch, project)}
    WHERE ${rangeSql(project, q.from, q.to)} AND event IN (${names.map(str).join(', ')}) AND ${segmentSql(ch, project, q.users)}`;
  const perPerson = `SELECT person, groupUniqArrayIf(p, is_start) AS sp, groupUniqArrayIf(p, is_return) AS rp
    FROM (${inner}) GROUP BY person HAVING length(sp) > 0`;
  const cohorts = q.cohort === 'first' ? "[arrayReduce('min', sp)]" : 'sp';
  // rp goes in as a lambda argument, not a capture: 18.16 prunes subquery columns only lambdas use.
  const n = q.periods + 1;
  const perCohort = `SELECT c, arrayMap((k, r) -> toUInt64(has(r, c + k)), range(${n}), arrayResize([rp], ${n}, rp)) AS hits
    FROM (${perPerson}) ARRAY JOIN ${cohorts} AS c`;
  const rows = await ch.rows<{ c: number; size: number; ret: number[] }>(
    `SELECT c, count() AS size, sumForEach(hits) AS ret FROM (${perCohort}) GROUP BY c`,
  );
  const width = q.periods + 2;
  const flat = new Array<number>(starts.length * width).fill(0);
  for (const r of rows) {
    flat[r.c * width] = Number(r.size);
    r.ret.forEach((v, k) => {
      if (r.c + k < starts.length) flat[r.c * width + 1 + k] = Number(v);
    });
  }
  return mergeRetention(q, [flat]);
}
