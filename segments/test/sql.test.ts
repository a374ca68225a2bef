import { describe, expect, it } from 'vitest';
import type { PropCondition } from '../src/definition.js';
import { compilePlan } from '../src/plan.js';
import {
  planCountSql,
  planMembersSql,
  propConditionSql,
  type SqlContext,
  segmentMembersSql,
  sqlNumber,
  sqlString,
  sqlTable,
} from '../src/sql.js';
import { parseCondition } from '../src/validate.js';

const NOW = Date.UTC(2024, 5, 15);
const ctx: SqlContext = {
  project: 'shop',
  now: NOW,
  tables: {
    events: 'weft.events',
    profiles: 'weft.profiles',
    tags: 'weft.tags',
    members: 'weft.segment_members',
  },
};
const sql = (input: unknown): string => planMembersSql(compilePlan(parseCondition(input)), ctx);

describe('literals', () => {
  it('escapes strings so no input leaves the literal', () => {
    expect(sqlString("it's")).toBe("'it\\'s'");
    expect(sqlString('a\\b')).toBe("'a\\\\b'");
    expect(sqlString("\\'; DROP TABLE x; --")).toBe("'\\\\\\'; DROP TABLE x; --'");
    expect(sqlString('line\nnext\r\tend\0')).toBe("'line\\nnext\\r\\tend\\0'");
  });

  it('spells numbers and refuses what is not finite', () => {
    expect(sqlNumber(-2.5)).toBe('-2.5');
    expect(() => sqlNumber(Number.NaN)).toThrow(/finite/);
    expect(() => sqlNumber(Infinity)).toThrow(/finite/);
  });

  it('quotes table names and refuses anything else', () => {
    expect(sqlTable('weft.events')).toBe('`weft`.`events`');
    expect(sqlTable('events')).toBe('`events`');
    expect(() => sqlTable('events; DROP')).toThrow(/not a table name/);
    expect(() => sqlTable('a.b.c')).toThrow(/not a table name/);
  });
});

describe('propConditionSql', () => {
  const cases: Array<[PropCondition, string]> = [
    [
      { prop: 'plan', op: 'eq', value: 'pro' },
      "(indexOf(prop_keys, 'plan') > 0 AND (prop_types[indexOf(prop_keys, 'plan')] = 0 AND prop_values[indexOf(prop_keys, 'plan')] = 'pro'))",
    ],
    [{ prop: 'n', op: 'eq', value: 5 }, "prop_numbers[indexOf(prop_keys, 'n')] = 5"],
    [
      { prop: 'b', op: 'eq', value: true },
      "prop_types[indexOf(prop_keys, 'b')] = 2 AND prop_values[indexOf(prop_keys, 'b')] = 'true'",
    ],
    [{ prop: 'z', op: 'eq', value: null }, "(prop_types[indexOf(prop_keys, 'z')] = 3)"],
    [{ prop: 'p', op: 'neq', value: 'x' }, "NOT (indexOf(prop_keys, 'p') > 0 AND"],
    [
      { prop: 'p', op: 'in', value: ['a', 1] },
      "prop_values[indexOf(prop_keys, 'p')] = 'a') OR (prop_types[indexOf(prop_keys, 'p')] = 1",
    ],
    [
      { prop: 'n', op: 'gte', value: 2.5 },
      "prop_types[indexOf(prop_keys, 'n')] = 1 AND prop_numbers[indexOf(prop_keys, 'n')] >= 2.5",
    ],
    [
      { prop: 'n', op: 'between', value: [1, 2] },
      "prop_numbers[indexOf(prop_keys, 'n')] >= 1 AND prop_numbers[indexOf(prop_keys, 'n')] <= 2",
    ],
    [
      { prop: 's', op: 'contains', value: "o'k" },
      "position(prop_values[indexOf(prop_keys, 's')], 'o\\'k') > 0",
    ],
    [{ prop: 's', op: 'set' }, "(indexOf(prop_keys, 's') > 0)"],
    [{ prop: 's', op: 'notset' }, "NOT (indexOf(prop_keys, 's') > 0)"],
  ];
  it.each(cases)('%j', (cond, fragment) => {
    expect(propConditionSql(cond)).toContain(fragment);
  });
});

describe('planMembersSql', () => {
  it('selects persons of the project from one scan of every table, filtered by IN tests', () => {
    const q = sql({ tag: 'gold' });
    expect(q).toMatch(
      /^SELECT person FROM \(SELECT DISTINCT person FROM \(SELECT person FROM `weft`\.`events` WHERE project = 'shop' UNION ALL /,
    );
    expect(q).toContain("SELECT person FROM `weft`.`profiles` WHERE project = 'shop'");
    expect(q).toContain("SELECT person FROM `weft`.`segment_members` WHERE project = 'shop'");
    expect(q).toContain(
      "WHERE person IN (SELECT person FROM `weft`.`tags` FINAL WHERE project = 'shop' AND tag = 'gold' AND deleted = 0) ORDER BY person",
    );
    expect(sql({ tag: 'gold', value: 'a' })).toContain("tag = 'gold' AND deleted = 0 AND value = 'a')");
  });

  it('stays inside 18.16: no CTE, no JOIN, no window functions', () => {
    const q = sql({
      and: [
        { or: [{ prop: 'age', op: 'gt', value: 3 }, { tag: 'x' }] },
        { not: { did: 'buy', count: { op: 'lt', value: 3 }, within: { last: '7d' } } },
      ],
    });
    expect(q).not.toMatch(/\bJOIN\b|\bOVER\b|WITH \w+ AS \(/);
    expect(q).toContain(' AND NOT (');
  });

  it('counts distinct event ids per person inside the resolved window', () => {
    const q = sql({
      did: 'buy',
      where: [{ prop: 'price', op: 'gt', value: 10 }],
      count: { op: 'between', value: [2, 4] },
      within: { last: '7d' },
    });
    expect(q).toContain(
      `person IN (SELECT person FROM \`weft\`.\`events\` WHERE project = 'shop' AND event = 'buy' AND (indexOf(prop_keys, 'price') > 0 AND prop_types[indexOf(prop_keys, 'price')] = 1 AND prop_numbers[indexOf(prop_keys, 'price')] > 10) AND time_ms >= ${NOW - 7 * 86_400_000} AND time_ms < ${NOW + 1} GROUP BY person HAVING uniqExact(event_id) >= 2 AND uniqExact(event_id) <= 4)`,
    );
    const absolute = sql({ did: 'buy', within: { from: '2024-01-01', to: '2024-02-01' } });
    expect(absolute).toContain(
      `time_ms >= ${Date.UTC(2024, 0, 1)} AND time_ms < ${Date.UTC(2024, 1, 1)} GROUP BY`,
    );
    expect(sql({ did: 'buy' })).toContain("event = 'buy' GROUP BY person HAVING uniqExact(event_id) >= 1)");
    // Before the epoch: no lower bound on an unsigned column, and an empty range reads nothing.
    expect(sql({ did: 'buy', within: { from: '1960-01-01', to: '1965-01-01' } })).toContain(
      "event = 'buy' AND 0 GROUP BY",
    );
  });

  it('answers zero counts with NOT IN, as the plan does', () => {
    const q = sql({ did: 'buy', count: { op: 'eq', value: 0 } });
    expect(q).toContain(
      "WHERE NOT (person IN (SELECT person FROM `weft`.`events` WHERE project = 'shop' AND event = 'buy'",
    );
    expect(sql({ prop: 'plan', op: 'notset' })).toContain(
      "WHERE NOT (person IN (SELECT person FROM `weft`.`profiles` FINAL WHERE project = 'shop' AND (indexOf(prop_keys, 'plan') > 0)))",
    );
    expect(sql({ did: 'buy', count: { op: 'gte', value: 0 } })).toMatch(/ WHERE 1 ORDER BY person$/);
    expect(sql({ not_did: 'buy', count: { op: 'gte', value: 0 } })).toMatch(/ WHERE 0 ORDER BY person$/);
  });

  it('reads static segments from the members table and inlines the others', () => {
    const lookup = (id: string) =>
      id === 'pros'
        ? { definition: parseCondition({ prop: 'plan', value: 'pro' }) }
        : id === 'list'
          ? {}
          : undefined;
    const q = segmentMembersSql(parseCondition({ or: [{ segment: 'pros' }, { segment: 'list' }] }), ctx, {
      lookup,
    });
    expect(q).toContain(
      "person IN (SELECT person FROM `weft`.`profiles` FINAL WHERE project = 'shop' AND (indexOf(prop_keys, 'plan') > 0",
    );
    expect(q).toContain(
      "person IN (SELECT person FROM `weft`.`segment_members` WHERE project = 'shop' AND segment = 'list')",
    );
  });

  it('expands defined events and inlines rule tags', () => {
    const q = segmentMembersSql(parseCondition({ and: [{ did: 'Pressed buy' }, { tag: 'paying' }] }), ctx, {
      lookup: (id) =>
        id === 'payers' ? { definition: parseCondition({ prop: 'plan', value: 'pro' }) } : undefined,
      events: (name) =>
        name === 'Pressed buy'
          ? { event: '$click', where: [{ prop: '$el_text', op: 'eq', value: 'Buy' }] }
          : undefined,
      rules: (tag) => (tag === 'paying' ? 'payers' : undefined),
    });
    expect(q).toContain("event = '$click' AND (indexOf(prop_keys, '$el_text') > 0 AND");
    expect(q).not.toContain('Pressed buy');
    expect(q).not.toContain("tag = 'paying'");
    expect(q).toContain(
      "FROM `weft`.`profiles` FINAL WHERE project = 'shop' AND (indexOf(prop_keys, 'plan') > 0",
    );
  });

  it('takes the person of an event from the configured expression', () => {
    const q = planMembersSql(compilePlan(parseCondition({ did: 'buy' })), {
      ...ctx,
      tables: { ...ctx.tables, eventPerson: 'distinct_id' },
    });
    expect(q).toContain('SELECT distinct_id AS person FROM `weft`.`events` WHERE project');
    expect(q).toContain(
      "(SELECT distinct_id AS person FROM `weft`.`events` WHERE project = 'shop' AND event = 'buy' GROUP BY person",
    );
  });

  it('counts instead of listing', () => {
    expect(planCountSql(compilePlan(parseCondition({ tag: 'x' })), ctx)).toMatch(
      /^SELECT count\(\) AS count FROM \(SELECT DISTINCT person/,
    );
  });

  it('escapes every name and value that comes from the definition', () => {
    const q = sql({ and: [{ tag: "x' OR 1 --" }, { did: "ev'", where: [{ prop: "k'", value: "v'" }] }] });
    expect(q).toContain("tag = 'x\\' OR 1 --'");
    expect(q).toContain("event = 'ev\\''");
    expect(q).toContain("indexOf(prop_keys, 'k\\'')");
    expect(q).toContain("= 'v\\''");
    expect(() =>
      planMembersSql(compilePlan(parseCondition({ tag: 'x' })), { ...ctx, project: "a'b" }),
    ).not.toThrow();
  });
});
