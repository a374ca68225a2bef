import type { Properties, WeftEvent } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import type { HeatmapQuery, HeatmapResponse } from '../../src/query/heatmap.js';
import type { PathsQuery, PathsResponse } from '../../src/query/paths.js';
import {
  DAY,
  type Dataset,
  datasetEvents,
  GEN_FROM,
  GEN_TO,
  GEN_WINDOW,
  generatedEvents,
  HOUR,
  indexEvents,
  indexFunnel,
  indexHeatmap,
  indexPaths,
  indexRetention,
  loadDatasets,
} from './fixtures.js';

/**
 * The index against reference SQL written here, independently of the engine's SQL generator:
 * plain GROUP BYs for event analysis, ClickHouse's own windowFunnel (over relative
 * milliseconds as UInt32, so ranges stay under 2^31 ms) for funnels, and a join of cohort
 * and return days for retention, sessions cut out of per-person sorted arrays for paths, and
 * plain filtered GROUP BYs for heatmaps.
 */

/**
 * More hand-made edges for paths and heatmaps: sessions whose events tie across session ids
 * (ties order by event name, then session id, so they fragment), gaps of exactly the limit,
 * and clicks and page leaves on /edge with unplaceable or mistyped properties.
 */
function edgeEvents(project: string): WeftEvent[] {
  const t = GEN_FROM + 6 * HOUR;
  const out: WeftEvent[] = [];
  const push = (user: string, event: string, time: number, properties: Properties = {}, session?: string) => {
    const e: WeftEvent = {
      event_id: `${project}-edge-${out.length}`,
      project,
      event,
      distinct_id: user,
      time,
      received_at: time,
      properties,
    };
    if (session !== undefined) e.session_id = session;
    out.push(e);
  };
  push('edge-sessions', 'home', t, {}, 'a');
  push('edge-sessions', 'view', t + 1000, {}, 'a');
  push('edge-sessions', 'cart', t + 1000, {}, 'b');
  push('edge-sessions', 'buy', t + 2000, {}, 'b');
  push('edge-gap', 'view', t, {});
  push('edge-gap', 'cart', t + 30 * 60_000, {});
  push('edge-gap', 'buy', t + 60 * 60_000 + 1, {});
  const page = { $url: 'https://shop.example/edge', $path: '/edge', $vw: 1280 };
  const click = (user: string, props: Properties) =>
    push(user, '$click', t + out.length, { ...page, ...props });
  click('edge-click', { $x: 1280, $y: 0, $dw: 1280, $el_selector: '#a', $rage: true });
  click('edge-click', { $x: 1279.5, $y: 127.9, $dw: 1280, $el_selector: '#a', $rage: 'true' });
  click('edge-click', { $x: -1, $y: 5, $dw: 1280, $el_selector: '#b' });
  click('edge-click', { $x: 5, $y: 5, $el_selector: 7 });
  click('edge-click', { $x: 5, $y: 5, $dw: 0 });
  click('edge-click2', { $x: '5', $y: 5, $dw: 1280, $el_selector: '#a', $vw: '1280' });
  click('edge-click2', { $x: 640, $y: 64, $dw: 1280, $el_selector: '' });
  const leave = (user: string, depth: Properties[string]) =>
    push(user, '$pageleave', t + out.length, { ...page, $scroll_depth: depth });
  leave('anon-edge-scroll', 40);
  leave('edge-scroll', 30);
  push('edge-scroll', '$identify', t + out.length, { $anon_distinct_id: 'anon-edge-scroll' });
  leave('edge-scroll2', 100);
  leave('edge-scroll2', -5);
  leave('edge-scroll3', 150);
  leave('edge-scroll4', '50');
  leave('edge-scroll5', 9.99);
  return out;
}

const datasets: Dataset[] = [
  {
    project: 'ecom',
    events: datasetEvents('ecom.csv', 'ecom'),
    from: Date.UTC(2024, 4, 1),
    to: Date.UTC(2024, 4, 25),
    steps: ['home', 'catalog', 'product_view', 'add_to_cart', 'purchase'],
  },
  {
    project: 'shop',
    events: datasetEvents('simple-onlineshop.csv', 'shop'),
    from: Date.UTC(2020, 3, 1),
    to: Date.UTC(2020, 3, 25),
    steps: ['catalog', 'product2', 'cart', 'delivery_choice', 'payment_done'],
  },
  {
    project: 'gen',
    events: [...generatedEvents('gen'), ...edgeEvents('gen')],
    from: GEN_FROM,
    to: GEN_TO,
    steps: ['view', 'cart', 'buy'],
  },
];

let ch: ClickHouse;
beforeAll(async () => {
  ch = await loadDatasets('weft_test_reference', datasets, 2);
});
afterAll(async () => {
  await ch?.close();
});

const range = (d: Dataset) => `project = '${d.project}' AND time_ms >= ${d.from} AND time_ms < ${d.to}`;

/** The person of a row: the login id an anonymous id was identified as (known from the events), else itself. */
function person(d: Dataset): string {
  const links = d.events.filter((e) => e.event === '$identify');
  if (links.length === 0) return 'distinct_id';
  const quote = (v: unknown) => `'${String(v)}'`;
  return `transform(distinct_id, [${links.map((e) => quote(e.properties.$anon_distinct_id)).join(', ')}], [${links.map((e) => quote(e.distinct_id)).join(', ')}], distinct_id)`;
}

/** Users reaching each step, by windowFunnel over rows fed in (time, lowest step, highest step) order. */
async function referenceFunnel(d: Dataset, steps: string[], window: number): Promise<number[]> {
  const conds = steps.map((s) => `e = '${s}'`);
  const lo = `multiIf(${conds.map((c, k) => `${c}, ${k}`).join(', ')}, 0)`;
  const hi = `multiIf(${[...conds]
    .reverse()
    .map((c, k) => `${c}, ${conds.length - 1 - k}`)
    .join(', ')}, 0)`;
  const rows = await ch.rows<{ level: number; users: number }>(
    `SELECT level, count() AS users FROM (
       SELECT person, windowFunnel(${window})(t, ${conds.join(', ')}) AS level FROM (
         SELECT ${person(d)} AS person, toUInt32(time_ms - ${d.from}) AS t, event AS e, ${lo} AS lo, ${hi} AS hi
         FROM ${ch.table('events')} WHERE ${range(d)} AND event IN (${steps.map((s) => `'${s}'`).join(', ')})
         ORDER BY person, t, lo, hi)
       GROUP BY person)
     GROUP BY level SETTINGS max_threads = 1`,
  );
  return steps.map((_, k) => rows.filter((r) => r.level >= k + 1).reduce((a, r) => a + Number(r.users), 0));
}

const sqlStr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Rows whose person is the person of one of `ids` (unknown ids match nobody), or every row. */
function inSegment(d: Dataset, ids: readonly string[] | undefined): string {
  if (ids === undefined) return '1';
  const list = [...new Set(ids)].map(sqlStr).join(', ');
  return `${person(d)} IN (SELECT ${person(d)} FROM (SELECT arrayJoin([${list}]) AS distinct_id))`;
}

/**
 * One row per person and distinct path. Per person, the range's events sorted by (time, event,
 * session id) as tuples; a session starts at the first event, after a gap over the limit or at
 * a new session id (numbered by a running sum of those breaks). Per session, the anchor is the
 * first start (end) event, or the first event without one; the path is the events from it on
 * (up to it, walking back), keeping only the first event of each run of one name (the last
 * one walking back, so the anchor always stays), cut at depth. Anchors are event names only.
 */
async function referenceSessionPaths(
  d: Dataset,
  q: PathsQuery,
): Promise<Array<{ person: string; path: string[] }>> {
  const spec = q.start ?? q.end;
  if (spec?.where !== undefined) throw new Error('reference paths take anchors by event name only');
  const anchor = spec?.event;
  const backward = q.start === undefined && q.end !== undefined;
  const events = `SELECT ${person(d)} AS person, time_ms, event, session_id FROM ${ch.table('events')}
    WHERE ${range(d)} AND ${inSegment(d, q.users)}`;
  const arrays = `SELECT person, arrayMap(x -> x.1, evs) AS ts, arrayMap(x -> x.2, evs) AS es, arrayMap(x -> x.3, evs) AS ss
    FROM (SELECT person, arraySort(groupArray((time_ms, event, session_id))) AS evs FROM (${events}) GROUP BY person)`;
  // Neighbours as shifted copies passed to the lambdas ('' is no event name or session at the ends).
  const flagged = `SELECT person, es,
      arrayPushFront(arrayPopBack(ts), toUInt64(0)) AS prev_ts,
      arrayPushFront(arrayPopBack(ss), '') AS prev_ss,
      arrayCumSum(arrayMap((pos, t, pt, sess, psess) -> toUInt32(pos = 1 OR t - pt > ${q.sessionGap} OR sess != psess),
        arrayEnumerate(ts), ts, prev_ts, ss, prev_ss)) AS sids,
      arrayMap((ev, pe) -> toUInt8(ev = pe), es, arrayPushFront(arrayPopBack(es), '')) AS same_prev,
      arrayMap((ev, ne) -> toUInt8(ev = ne), es, arrayPushBack(arrayPopFront(es), '')) AS same_next
    FROM (${arrays})`;
  const sessions = `SELECT person, sid, ${anchor === undefined ? 'min(k)' : `minIf(k, e = ${sqlStr(anchor)})`} AS a,
      groupArray((k, e, sp, sn)) AS items
    FROM (${flagged}) ARRAY JOIN es AS e, sids AS sid, same_prev AS sp, same_next AS sn, arrayEnumerate(es) AS k
    GROUP BY person, sid`;
  const keep = backward ? 'x.1 = a OR (x.1 < a AND x.4 = 0)' : 'x.1 = a OR (x.1 > a AND x.3 = 0)';
  const sort = backward ? 'arrayReverseSort' : 'arraySort';
  return ch.rows<{ person: string; path: string[] }>(
    `SELECT DISTINCT person, arrayMap(x -> x.2, arraySlice(${sort}(x -> x.1, arrayFilter(x -> ${keep}, items)), 1, ${q.depth})) AS path
     FROM (${sessions}) WHERE a > 0`,
  );
}

/** Nodes and links of the paths: per step the `top` events with most users (ties by name) stay, the rest become "$other". */
function assemblePaths(
  rows: ReadonlyArray<{ person: string; path: string[] }>,
  q: PathsQuery,
): PathsResponse {
  const add = (m: Map<string, Set<string>>, key: string, who: string) => {
    let s = m.get(key);
    if (!s) m.set(key, (s = new Set()));
    s.add(who);
  };
  const perStep = Array.from({ length: q.depth }, () => new Map<string, Set<string>>());
  for (const r of rows) for (const [s, e] of r.path.entries()) add(perStep[s]!, e, r.person);
  const kept = perStep.map(
    (m) =>
      new Set(
        [...m]
          .sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))
          .slice(0, q.top)
          .map(([e]) => e),
      ),
  );
  const backward = q.start === undefined && q.end !== undefined;
  const nodeUsers = new Map<string, Set<string>>();
  const linkUsers = new Map<string, Set<string>>();
  for (const r of rows) {
    const ids = r.path.map((e, s) => `${backward ? -s : s}:${kept[s]!.has(e) ? e : '$other'}`);
    ids.forEach((id, s) => {
      add(nodeUsers, id, r.person);
      // Links run forward in time: walking back, from the earlier step to the later one.
      if (s > 0) add(linkUsers, backward ? `${id}\n${ids[s - 1]}` : `${ids[s - 1]}\n${id}`, r.person);
    });
  }
  return {
    nodes: [...nodeUsers].map(([id, u]) => {
      const colon = id.indexOf(':');
      return { id, step: Number(id.slice(0, colon)), event: id.slice(colon + 1), users: u.size };
    }),
    links: [...linkUsers].map(([key, u]) => {
      const [source, target] = key.split('\n') as [string, string];
      return { source, target, users: u.size };
    }),
  };
}

/**
 * Reference heatmap: `$click` and `$pageleave` rows of the page (the `url`/`path` columns) and
 * viewport bucket (numeric `$vw`), with their numeric `$dw` and `$scroll_depth`, string
 * `$el_selector` and boolean `$rage`; cells from the `x`/`y` columns.
 */
async function referenceHeatmap(d: Dataset, q: HeatmapQuery): Promise<HeatmapResponse> {
  const g = q.grid;
  const page = q.url !== undefined ? `url = ${sqlStr(q.url)}` : `path = ${sqlStr(q.path ?? '')}`;
  // The property's position, type marker (0 string, 1 number, 2 boolean), number and text.
  const prop = (key: string, as: string) =>
    `indexOf(prop_keys, ${sqlStr(key)}) AS ${as}_i, if(${as}_i = 0, 255, prop_types[${as}_i]) AS ${as}_t,
     prop_numbers[${as}_i] AS ${as}_n, prop_values[${as}_i] AS ${as}_s`;
  const viewport = [
    q.viewport?.min !== undefined ? `vw_t = 1 AND vw_n >= ${q.viewport.min}` : '1',
    q.viewport?.max !== undefined ? `vw_t = 1 AND vw_n < ${q.viewport.max}` : '1',
  ].join(' AND ');
  const rows = (event: string) => `SELECT * FROM (
      SELECT ${person(d)} AS person, x, y, ${prop('$vw', 'vw')}, ${prop('$dw', 'dw')}, ${prop('$el_selector', 'sel')},
        ${prop('$rage', 'rage')}, ${prop('$scroll_depth', 'sd')}
      FROM ${ch.table('events')}
      WHERE ${range(d)} AND event = ${sqlStr(event)} AND ${page} AND ${inSegment(d, q.users)})
    WHERE ${viewport}`;
  const clicks = rows('$click');
  const isRage = `rage_t = 2 AND rage_s = 'true'`;
  const depths = Array.from({ length: 11 }, (_, i) => i * 10);
  const [totals, cells, elements, scroll] = await Promise.all([
    ch.rows<{ n: number; r: number }>(`SELECT count() AS n, countIf(${isRage}) AS r FROM (${clicks})`),
    ch.rows<{ cx: number; cy: number; n: number }>(
      `SELECT least(${g - 1}, toInt64(floor(assumeNotNull(x) * ${g} / dw_n))) AS cx, toInt64(floor(assumeNotNull(y) * ${g} / dw_n)) AS cy, count() AS n
       FROM (${clicks}) WHERE x IS NOT NULL AND y IS NOT NULL AND x >= 0 AND y >= 0 AND dw_t = 1 AND dw_n > 0
       GROUP BY cx, cy`,
    ),
    ch.rows<{ sel: string; n: number; u: number; r: number }>(
      `SELECT sel_s AS sel, count() AS n, uniqExact(person) AS u, countIf(${isRage}) AS r
       FROM (${clicks}) WHERE sel_t = 0 GROUP BY sel`,
    ),
    // Users whose deepest scroll is at least d: those with any page leave scrolled at least d.
    ch.rows<{ d: number; u: number }>(
      `SELECT d, uniqExact(person) AS u FROM (${rows('$pageleave')}) ARRAY JOIN [${depths.join(', ')}] AS d
       WHERE sd_t = 1 AND sd_n >= d GROUP BY d`,
    ),
  ]);
  const reached = new Map(scroll.map((r) => [Number(r.d), Number(r.u)]));
  return {
    clicks: Number(totals[0]!.n),
    rage_clicks: Number(totals[0]!.r),
    cells: cells.map((r) => ({ x: Number(r.cx), y: Number(r.cy), count: Number(r.n) })),
    elements: elements.map((r) => ({
      selector: r.sel,
      count: Number(r.n),
      users: Number(r.u),
      rage: Number(r.r),
    })),
    scroll: depths.map((depth) => ({ depth, users: reached.get(depth) ?? 0 })),
  };
}

const byKey =
  <T>(key: (t: T) => string) =>
  (xs: readonly T[]): T[] =>
    [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

const inRange = (d: Dataset) => d.events.filter((e) => e.time >= d.from && e.time < d.to);

function pathCases(d: Dataset): Array<[string, PathsQuery]> {
  const base = { from: d.from, to: d.to, sessionGap: 30 * 60_000, top: 4 };
  return [
    ['from the first step, depth 5', { ...base, start: { event: d.steps[0]! }, depth: 5 }],
    ['to the third step, depth 4', { ...base, end: { event: d.steps[2]! }, depth: 4 }],
    [
      'from each session start, 5 minute gap, depth 3, top 2',
      { ...base, depth: 3, sessionGap: 300_000, top: 2 },
    ],
    // Only equal times share a session: ties are ordered by event name, then session id.
    ['from each session start, zero gap, top 3', { ...base, depth: 4, sessionGap: 0, top: 3 }],
    [
      'from the second step, depth 10, top 10, a segment',
      {
        ...base,
        start: { event: d.steps[1]! },
        depth: 10,
        top: 10,
        // Ids of the range's first events, and an anonymous id of a merged person.
        users: [
          ...inRange(d)
            .slice(0, 300)
            .map((e) => e.distinct_id),
          'anon-g2',
          'nobody',
        ],
      },
    ],
  ];
}

describe.each(datasets)('$project: index equals reference SQL', (d) => {
  it('daily count and distinct users per event', async () => {
    for (const event of d.steps.slice(0, 3)) {
      const rows = await ch.rows<{ day: string; c: number; u: number }>(
        `SELECT toString(toDate(time)) AS day, count() AS c, uniqExact(${person(d)}) AS u
         FROM ${ch.table('events')} WHERE ${range(d)} AND event = '${event}' GROUP BY day`,
      );
      const base = { events: [{ event }], from: d.from, to: d.to, interval: 'day' as const, tz: 'UTC' };
      const count = indexEvents(d.indexes!, { ...base, metric: 'count' }).series[0]!;
      const uniques = indexEvents(d.indexes!, { ...base, metric: 'uniques' }).series[0]!;
      const nonzero = (points: Array<{ t: string; value: number }>) =>
        Object.fromEntries(points.filter((p) => p.value !== 0).map((p) => [p.t, p.value]));
      expect(nonzero(count.points)).toEqual(Object.fromEntries(rows.map((r) => [r.day, Number(r.c)])));
      expect(nonzero(uniques.points)).toEqual(Object.fromEntries(rows.map((r) => [r.day, Number(r.u)])));
    }
  });

  it.each([
    ['all steps, 1 hour', 0, GEN_WINDOW],
    ['all steps, 1 day', 0, DAY],
    ['from the second step, 10 minutes', 1, 600_000],
    ['all steps, zero window', 0, 0],
  ])('funnel (windowFunnel): %s', async (_name, skip, window) => {
    const steps = d.steps.slice(skip as number);
    const expected = await referenceFunnel(d, steps, window as number);
    const got = indexFunnel(d.indexes!, {
      steps: steps.map((event) => ({ event })),
      window: window as number,
      from: d.from,
      to: d.to,
    });
    expect(expected[0]).toBeGreaterThan(0);
    expect(got.steps.map((s) => s.users)).toEqual(expected);
  });

  it('funnel with a repeated step (windowFunnel)', async () => {
    const steps = [d.steps[0]!, d.steps[0]!, d.steps[1]!];
    const got = indexFunnel(d.indexes!, {
      steps: steps.map((event) => ({ event })),
      window: DAY,
      from: d.from,
      to: d.to,
    });
    expect(got.steps.map((s) => s.users)).toEqual(await referenceFunnel(d, steps, DAY));
  });

  it.each(['each', 'first'] as const)(
    'daily retention, cohort %s (join of cohort and return days)',
    async (cohort) => {
      const periods = 6;
      const [start, ret] = [d.steps[0]!, d.steps[2]!];
      const day = 'toRelativeDayNum(toDate(time))';
      const cohorts =
        cohort === 'each'
          ? `SELECT DISTINCT ${person(d)} AS person, ${day} AS c FROM ${ch.table('events')} WHERE ${range(d)} AND event = '${start}'`
          : `SELECT ${person(d)} AS person, min(${day}) AS c FROM ${ch.table('events')} WHERE ${range(d)} AND event = '${start}' GROUP BY person`;
      const returns = `SELECT DISTINCT ${person(d)} AS person, ${day} AS r FROM ${ch.table('events')} WHERE ${range(d)} AND event = '${ret}'`;
      const sizes = await ch.rows<{ c: number; n: number }>(
        `SELECT c, count() AS n FROM (${cohorts}) GROUP BY c`,
      );
      const cells = await ch.rows<{ c: number; k: number; n: number }>(
        `SELECT c, r - c AS k, count() AS n FROM (${cohorts}) ALL INNER JOIN (${returns}) USING person
       WHERE r >= c AND r - c <= ${periods} GROUP BY c, k`,
      );
      const got = indexRetention(d.indexes!, {
        start: { event: start },
        return: { event: ret },
        from: d.from,
        to: d.to,
        period: 'day',
        periods,
        cohort,
        tz: 'UTC',
      });
      const dayLabel = (n: number) => new Date(n * DAY).toISOString().slice(0, 10);
      const expected = new Map(
        sizes.map((s) => [dayLabel(s.c), { size: Number(s.n), returned: new Array(periods + 1).fill(0) }]),
      );
      for (const c of cells) expected.get(dayLabel(c.c))!.returned[c.k] = Number(c.n);
      const nonEmpty = got.cohorts.filter((c) => c.size > 0);
      expect(nonEmpty.length).toBeGreaterThan(0);
      expect(
        Object.fromEntries(nonEmpty.map((c) => [c.date, { size: c.size, returned: c.returned }])),
      ).toEqual(Object.fromEntries(expected));
    },
  );

  it.each(pathCases(d))('paths: %s (sessions cut from sorted arrays)', async (_name, q) => {
    const rows = await referenceSessionPaths(d, q);
    expect(rows.length).toBeGreaterThan(0);
    const expected = assemblePaths(rows, q);
    const got = indexPaths(d.indexes!, q);
    const nodes = byKey((n: PathsResponse['nodes'][number]) => n.id);
    const links = byKey((l: PathsResponse['links'][number]) => `${l.source}\n${l.target}`);
    expect(nodes(got.nodes)).toEqual(nodes(expected.nodes));
    expect(links(got.links)).toEqual(links(expected.links));
  });
});

describe('heatmaps: index equals reference SQL', () => {
  const d = datasets[2]!;
  const base = { from: d.from, to: d.to };
  const cases: Array<[string, HeatmapQuery]> = [
    [
      'by url, desktop, grid 20',
      { ...base, url: 'https://shop.example/pricing', grid: 20, viewport: { min: 1000 } },
    ],
    ['by path, mobile, grid 7', { ...base, path: '/docs', grid: 7, viewport: { max: 768 } }],
    ['edges, grid 10', { ...base, path: '/edge', grid: 10 }],
    [
      'edges, desktop by url, grid 10',
      { ...base, url: 'https://shop.example/edge', grid: 10, viewport: { min: 1000 } },
    ],
    [
      'by path, bucket [390, 1280), grid 13',
      { ...base, path: '/blog', grid: 13, viewport: { min: 390, max: 1280 } },
    ],
    [
      'by path, any viewport, a segment with anonymous ids',
      // Persons named by their login ids or (every seventh, and merged ones) their anonymous ids.
      {
        ...base,
        path: '/',
        grid: 50,
        users: [
          ...Array.from({ length: 40 }, (_, u) => (u % 7 === 1 || u % 7 === 2 ? `anon-g${u}` : `g${u}`)),
          'nobody',
        ],
      },
    ],
  ];
  it.each(cases)('%s', async (_name, q) => {
    const expected = await referenceHeatmap(d, q);
    const got = indexHeatmap(d.indexes!, q);
    expect(expected.clicks).toBeGreaterThan(0);
    expect(expected.scroll[0]!.users).toBeGreaterThan(0);
    const cells = byKey((c: HeatmapResponse['cells'][number]) => `${c.y},${c.x}`);
    const elements = byKey((e: HeatmapResponse['elements'][number]) => e.selector);
    expect({ ...got, cells: cells(got.cells), elements: elements(got.elements) }).toEqual({
      ...expected,
      cells: cells(expected.cells),
      elements: elements(expected.elements),
    });
  });
});
