import {
  type HeatmapPartial,
  type HeatmapQuery,
  type HeatmapResponse,
  mergeHeatmap,
} from '../query/heatmap.js';
import type { ClickHouse } from './client.js';
import { PROP_BOOLEAN, PROP_NUMBER } from './insert.js';
import { eventsSource, num, PERSON, propIndex, rangeSql, segmentSql, str } from './sql.js';

function pageSql(q: HeatmapQuery): string {
  const parts = [q.url !== undefined ? `url = ${str(q.url)}` : `path = ${str(q.path ?? '')}`];
  const vw = propIndex('$vw');
  const numeric = `${vw} > 0 AND prop_types[${vw}] = ${PROP_NUMBER}`;
  if (q.viewport?.min !== undefined)
    parts.push(`(${numeric} AND prop_numbers[${vw}] >= ${num(q.viewport.min)})`);
  if (q.viewport?.max !== undefined)
    parts.push(`(${numeric} AND prop_numbers[${vw}] < ${num(q.viewport.max)})`);
  return parts.join(' AND ');
}

/** Numeric property `prop` of the row, or NULL. */
function numberOrNull(prop: string): string {
  const i = propIndex(prop);
  return `if(${i} > 0 AND prop_types[${i}] = ${PROP_NUMBER}, prop_numbers[${i}], NULL)`;
}

/** A heatmap as SQL, post-processed by the same merge as the index's partials. */
export async function heatmapSql(ch: ClickHouse, project: string, q: HeatmapQuery): Promise<HeatmapResponse> {
  const g = q.grid;
  const base = `${rangeSql(project, q.from, q.to)} AND ${pageSql(q)} AND ${segmentSql(ch, project, q.users)}`;
  const rage = propIndex('$rage');
  const isRage = `(${rage} > 0 AND prop_types[${rage}] = ${PROP_BOOLEAN} AND prop_values[${rage}] = 'true')`;
  const sel = propIndex('$el_selector');
  const clicks = `SELECT ${PERSON} AS person, ${numberOrNull('$x')} AS cx, ${numberOrNull('$y')} AS cy, ${numberOrNull('$dw')} AS dw,
      ${isRage} AS rage, ${sel} > 0 AND prop_types[${sel}] = 0 AS has_sel, prop_values[${sel}] AS sel
    FROM ${eventsSource(ch, project)} WHERE event = '$click' AND ${base}`;
  const [totals, cells, elements, scroll] = await Promise.all([
    ch.rows<{ clicks: number; rage: number }>(
      `SELECT count() AS clicks, countIf(rage) AS rage FROM (${clicks})`,
    ),
    ch.rows<{ x: number; y: number; c: number }>(
      `SELECT least(${g - 1}, toInt64(floor(cx * ${g} / dw))) AS x, toInt64(floor(cy * ${g} / dw)) AS y, count() AS c
       FROM (${clicks}) WHERE cx >= 0 AND cy >= 0 AND dw > 0 GROUP BY x, y`,
    ),
    ch.rows<{ sel: string; c: number; u: number; r: number }>(
      `SELECT sel, count() AS c, uniqExact(person) AS u, countIf(rage) AS r FROM (${clicks}) WHERE has_sel GROUP BY sel`,
    ),
    ch.rows<{ d: number; u: number }>(
      `SELECT d, count() AS u FROM (
         SELECT ${PERSON} AS person, toUInt8(least(100, floor(max(assumeNotNull(${numberOrNull('$scroll_depth')}))))) AS d
         FROM ${eventsSource(ch, project)}
         WHERE event = '$pageleave' AND ${base} AND ${numberOrNull('$scroll_depth')} >= 0
         GROUP BY person) GROUP BY d`,
    ),
  ]);
  const scrollMax = new Array<number>(101).fill(0);
  for (const r of scroll) scrollMax[r.d] = Number(r.u);
  const partial: HeatmapPartial = {
    clicks: Number(totals[0]?.clicks ?? 0),
    rage: Number(totals[0]?.rage ?? 0),
    cells: cells.map((r) => [Number(r.x), Number(r.y), Number(r.c)]),
    elements: elements.map((r) => [r.sel, Number(r.c), Number(r.u), Number(r.r)]),
    scrollMax,
  };
  return mergeHeatmap([partial]);
}
