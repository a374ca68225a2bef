import {
  mergePaths,
  OTHER_EVENT,
  type PathsPartial,
  type PathsQuery,
  type PathsResponse,
  topPathEvents,
} from '../query/paths.js';
import type { ClickHouse } from './client.js';
import { eventsSource, PERSON, rangeSql, segmentSql, specSql, str, strArray } from './sql.js';

/**
 * Per session, its path as an array of event names, with the person. Events are ordered by
 * time, then name, then session id (as on the index); a session breaks at a gap longer than
 * `sessionGap` or a change of session id. Lambdas take arrays as arguments rather than
 * capturing them: ClickHouse copies a captured array for every element, which is quadratic.
 */
function sessionPaths(ch: ClickHouse, project: string, q: PathsQuery): string {
  const anchorSpec = q.start ?? q.end;
  const backward = q.start === undefined && q.end !== undefined;
  const inner = `SELECT ${PERSON} AS person, time_ms, event, session_id, toUInt8(${anchorSpec ? specSql(anchorSpec) : '1'}) AS anchor
    FROM ${eventsSource(ch, project)} WHERE ${rangeSql(project, q.from, q.to)} AND ${segmentSql(ch, project, q.users)}`;
  const sorted = `SELECT person, arraySort(e -> (e.1, e.2, e.3), groupArray((time_ms, event, session_id, anchor))) AS ev
    FROM (${inner}) GROUP BY person${anchorSpec ? ' HAVING arrayExists(e -> e.4 = 1, ev)' : ''}`;
  const split = `SELECT person, ev,
      arrayMap(e -> e.1, ev) AS ts, arrayMap(e -> e.3, ev) AS ss,
      arrayCumSum(arrayMap((gap, prev, cur, i) -> toUInt32(i = 1 OR gap > ${Math.floor(q.sessionGap)} OR prev != cur),
        arrayDifference(ts), arrayPushFront(arrayPopBack(ss), ''), ss, arrayEnumerate(ev))) AS sid
    FROM (${sorted})`;
  const sessions = `SELECT person, sid, arraySort(e -> (e.1, e.2, e.3), groupArray(e)) AS sev
    FROM (${split}) ARRAY JOIN ev AS e, sid GROUP BY person, sid`;
  // From the session's first anchor on (or up to it, reversed), repeats collapsed, cut at depth.
  const a = 'arrayFirstIndex(e -> e.4 = 1, sev)';
  const names = 'arrayMap(e -> e.2, sev)';
  const tail = backward ? `arrayReverse(arraySlice(${names}, 1, ${a}))` : `arraySlice(${names}, ${a})`;
  return `SELECT person, arraySlice(arrayFilter((x, prev) -> x != prev, t, arrayPushFront(arrayPopBack(t), '')), 1, ${q.depth}) AS path
    FROM (SELECT person, ${a} AS a, ${tail} AS t FROM (${sessions})) WHERE a > 0`;
}

async function partial(ch: ClickHouse, project: string, q: PathsQuery): Promise<PathsPartial> {
  const folded = q.keep
    ? `arrayMap((e, i) -> if(has(${`[${q.keep.map(strArray).join(', ')}]`}[i], e), e, ${str(OTHER_EVENT)}), path, arrayEnumerate(path))`
    : 'path';
  const perPath = `SELECT person, ${folded} AS fp FROM (${sessionPaths(ch, project, q)})`;
  const nodes = await ch.rows<{ step: number; e: string; u: number }>(
    `SELECT step, e, uniqExact(person) AS u FROM (${perPath}) ARRAY JOIN fp AS e, arrayEnumerate(fp) AS step GROUP BY step, e`,
  );
  const links = q.keep
    ? await ch.rows<{ step: number; src: string; dst: string; u: number }>(
        `SELECT step, fp[step - 1] AS src, fp[step] AS dst, uniqExact(person) AS u
         FROM (${perPath}) ARRAY JOIN arrayEnumerate(fp) AS step WHERE step > 1 GROUP BY step, src, dst`,
      )
    : [];
  return {
    nodes: nodes.map((r) => [Number(r.step) - 1, r.e, Number(r.u)]),
    links: links.map((r) => [Number(r.step) - 1, r.src, r.dst, Number(r.u)]),
  };
}

/** Paths as SQL, in the same two passes (top events per step, then folded nodes and links) as the index. */
export async function pathsSql(ch: ClickHouse, project: string, q: PathsQuery): Promise<PathsResponse> {
  const keep = topPathEvents(q, [await partial(ch, project, q)]);
  return mergePaths(q, [await partial(ch, project, { ...q, keep })]);
}
