import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import {
  DAY,
  type Dataset,
  datasetEvents,
  GEN_FROM,
  GEN_TO,
  GEN_WINDOW,
  generatedEvents,
  indexEvents,
  indexFunnel,
  indexRetention,
  loadDatasets,
} from './fixtures.js';

/**
 * The index against reference SQL written here, independently of the engine's SQL generator:
 * plain GROUP BYs for event analysis, ClickHouse's own windowFunnel (over relative
 * milliseconds as UInt32, so ranges stay under 2^31 ms) for funnels, and a join of cohort
 * and return days for retention.
 */

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
    events: generatedEvents('gen'),
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
});
