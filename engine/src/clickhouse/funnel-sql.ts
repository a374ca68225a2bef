import { NO_VALUE } from '../query/event-analysis.js';
import {
  type FunnelGroupPartial,
  type FunnelQuery,
  type FunnelResponse,
  type FunnelUsersQuery,
  mergeFunnel,
} from '../query/funnel.js';
import type { ClickHouse } from './client.js';
import { PROP_NULL } from './insert.js';
import {
  eventsSource,
  PERSON,
  propValueOf,
  propValueSql,
  rangeSql,
  segmentSql,
  specSql,
  str,
} from './sql.js';

/**
 * Per person: the level of the best chain and its steps' gaps, computed with arrays so it
 * is exact to the millisecond for any range (windowFunnel on 18.16 takes only DateTime or
 * UInt32, and keeps times as Int32). Events are ordered as on the index (funnel-chain.ts):
 * time, lowest then highest matched step, step mask, then the breakdown value as (type,
 * number, text); from each first-step event the chain takes the earliest next match within
 * the window; the earliest start of the best level wins.
 */
function chainSql(ch: ClickHouse, project: string, q: FunnelQuery): string {
  const n = q.steps.length;
  const conds = q.steps.map(specSql);
  const mask = conds.map((c, k) => `bitShiftLeft(toUInt32(${c}), ${k})`).join(' + ');
  const lo = `multiIf(${conds.map((c, k) => `${c}, ${k}`).join(', ')}, 0)`;
  const hi = `multiIf(${[...conds]
    .reverse()
    .map((c, k) => `${c}, ${n - 1 - k}`)
    .join(', ')}, 0)`;
  const bd = q.breakdown === undefined ? null : propValueSql(q.breakdown);
  const names = [...new Set(q.steps.map((s) => s.event))];
  const inner = `SELECT ${PERSON} AS person, time_ms AS t, ${mask} AS mask, ${lo} AS lo, ${hi} AS hi,
      ${bd ? bd.type : PROP_NULL} AS bt, ${bd ? bd.text : "''"} AS bx, ${bd ? bd.number : '0'} AS bn
    FROM ${eventsSource(ch, project)}
    WHERE ${rangeSql(project, q.from, q.to)} AND event IN (${names.map(str).join(', ')}) AND ${segmentSql(ch, project, q.users)} AND mask > 0`;
  const perPerson = `SELECT person, arraySort(e -> (e.1, e.3, e.4, e.2, e.5, e.7, e.6), groupArray((t, mask, lo, hi, bt, bx, bn))) AS ev
    FROM (${inner}) GROUP BY person`;
  const w = Math.floor(q.window);
  const cols = ['arrayMap(e -> e.1, ev) AS ts', 'arrayMap(e -> e.2, ev) AS ms', 'arrayEnumerate(ev) AS idx'];
  cols.push('arrayFilter(i -> bitAnd(ms[i], 1) != 0, idx) AS p1');
  for (let k = 2; k <= n; k++) {
    const bit = 2 ** (k - 1);
    cols.push(
      `arrayMap((s, p) -> if(p = 0, 0, arrayFirstIndex((m, i) -> i > p AND bitAnd(m, ${bit}) != 0 AND ts[i] <= ts[s] + ${w}, ms, idx)), p1, p${k - 1}) AS p${k}`,
    );
  }
  const ps = Array.from({ length: n }, (_, k) => `p${k + 1}`);
  const args = ps.map((_, k) => `a${k + 1}`);
  cols.push(
    `arrayMap((${args.join(', ')}) -> ${['1', ...args.slice(1).map((a) => `(${a} > 0)`)].join(' + ')}, ${ps.join(', ')}) AS lv`,
  );
  cols.push("arrayReduce('max', lv) AS level", 'arrayFirstIndex(l -> l = level, lv) AS best');
  for (let k = 1; k <= n; k++) cols.push(`p${k}[best] AS s${k}`);
  for (let k = 2; k <= n; k++) cols.push(`if(level >= ${k}, ts[s${k}] - ts[s${k - 1}], 0) AS g${k}`);
  cols.push(
    'tupleElement(ev[s1], 5) AS bt',
    'tupleElement(ev[s1], 6) AS bx',
    'tupleElement(ev[s1], 7) AS bn',
  );
  return `SELECT person, ${cols.join(',\n    ')} FROM (${perPerson})`;
}

interface GroupRow {
  bt: number;
  bx: string;
  bn: number;
  [k: string]: number | string | number[];
}

/** A funnel as SQL, post-processed by the same merge as the index's partials. */
export async function funnelSql(ch: ClickHouse, project: string, q: FunnelQuery): Promise<FunnelResponse> {
  const n = q.steps.length;
  const reached = Array.from({ length: n }, (_, k) => `countIf(level >= ${k + 1}) AS r${k + 1}`);
  const gaps = Array.from(
    { length: n - 1 },
    (_, k) => `groupArrayIf(g${k + 2}, level >= ${k + 2}) AS gs${k + 2}`,
  );
  const rows = await ch.rows<GroupRow>(
    `SELECT bt, bx, bn, ${[...reached, ...gaps].join(', ')} FROM (${chainSql(ch, project, q)}) WHERE level > 0 GROUP BY bt, bx, bn`,
  );
  const partials: FunnelGroupPartial[] = rows.map((r) => {
    const value = propValueOf(r.bt, r.bx, r.bn);
    return {
      key: value === null ? NO_VALUE : JSON.stringify(value),
      value,
      reached: Array.from({ length: n }, (_, k) => Number(r[`r${k + 1}`])),
      gaps: [
        new Float64Array(0),
        ...Array.from({ length: n - 1 }, (_, k) => Float64Array.from(r[`gs${k + 2}`] as number[], Number)),
      ],
    };
  });
  return mergeFunnel(q, [partials]);
}

/** The persons who converted at or dropped at a step, as SQL. */
export async function funnelUsersSql(
  ch: ClickHouse,
  project: string,
  q: FunnelUsersQuery,
): Promise<string[]> {
  const cond = q.status === 'converted' ? `level >= ${q.step}` : `level = ${q.step - 1}`;
  const rows = await ch.rows<{ person: string }>(
    `SELECT person FROM (${chainSql(ch, project, q)}) WHERE level > 0 AND ${cond}`,
  );
  return rows.map((r) => r.person);
}
