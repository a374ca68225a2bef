import { WeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import type { Condition, PropType } from '../src/definition.js';
import {
  type Catalog,
  LIMITS,
  parseCondition,
  parsePropCondition,
  parseSegmentSpec,
} from '../src/validate.js';

/** The WeftError a call throws. */
function error(fn: () => unknown): WeftError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WeftError) return err;
    throw err;
  }
  throw new Error('expected a WeftError');
}

function problem(input: unknown, options = {}): string {
  const err = error(() => parseCondition(input, options));
  expect(err.code).toBe('invalid');
  expect(err.status).toBe(400);
  return err.message;
}

describe('parseCondition: shapes and paths', () => {
  it('names the bad node by its path', () => {
    expect(problem({ and: [{ tag: 'a' }, { tag: 'b' }, { did: 'buy', within: { last: '7x' } }] })).toBe(
      'definition.and[2].within.last: "7x" is not a duration (e.g. 30m, 12h, 7d, 2w)',
    );
    expect(problem({ or: [{ not: { prop: 'age', op: 'gt', value: '3' } }] })).toBe(
      'definition.or[0].not.value: gt needs a number',
    );
    expect(problem({ did: 'buy', where: [{ prop: 'price' }, { prop: 'x', op: 'like', value: 1 }] })).toBe(
      'definition.where[0].value: eq needs a value (and 1 more problem)',
    );
  });

  it('reports every problem in details.issues, and the first in details.field', () => {
    const err = error(() =>
      parseCondition({ and: [{ prop: '', op: 'in', value: [] }, { tag: 'x', extra: 1 }, { segment: 5 }] }),
    );
    expect(err.details).toEqual({
      field: 'definition.and[0].prop',
      issues: [
        { path: 'definition.and[0].prop', reason: 'expected a property name (a non-empty string)' },
        { path: 'definition.and[0].value', reason: 'in needs a non-empty list' },
        { path: 'definition.and[1].extra', reason: 'unknown field (expected tag, value)' },
        { path: 'definition.and[2].segment', reason: 'expected a segment id (a non-empty string)' },
      ],
    });
    expect(err.message).toMatch(/\(and 3 more problems\)$/);
  });

  it('rejects what is not exactly one kind of condition', () => {
    expect(problem(null)).toMatch(/^definition: expected a condition object/);
    expect(problem([])).toMatch(/^definition: expected a condition object/);
    expect(problem({})).toMatch(
      /^definition: expected one of and, or, not, prop, tag, segment, did, not_did/,
    );
    expect(problem({ tag: 'a', prop: 'b' })).toBe(
      'definition: has both "prop" and "tag"; a condition is exactly one kind',
    );
    expect(problem({ and: [] })).toBe('definition.and: expected a non-empty list of conditions');
    expect(problem({ or: { tag: 'a' } })).toBe('definition.or: expected a non-empty list of conditions');
    expect(problem({ tag: 'a', value: 3 })).toBe('definition.value: a tag value is a non-empty string');
    expect(problem({ did: 'x'.repeat(201) })).toBe('definition.did: longer than 200 characters');
  });

  it('bounds nesting and size', () => {
    let deep: unknown = { tag: 'a' };
    for (let i = 0; i <= LIMITS.depth; i++) deep = { not: deep };
    expect(problem(deep)).toMatch(/nested more than 32 levels deep$/);
    const wide = { or: Array.from({ length: LIMITS.nodes + 5 }, () => ({ tag: 'a' })) };
    expect(problem(wide)).toBe(
      `definition.or[${LIMITS.nodes - 1}]: the definition has more than 1000 conditions`,
    );
  });

  it('returns a normalized copy: op defaults to eq, empty where is dropped', () => {
    const input = {
      and: [
        { prop: 'plan', value: 'pro' },
        { did: 'buy', where: [] },
      ],
    };
    expect(parseCondition(input)).toEqual({
      and: [{ prop: 'plan', op: 'eq', value: 'pro' }, { did: 'buy' }],
    });
  });
});

describe('parseCondition: operands per operator', () => {
  const cases: Array<[unknown, string | null]> = [
    [{ prop: 'a', op: 'eq', value: null }, null],
    [{ prop: 'a', op: 'neq', value: true }, null],
    [
      { prop: 'a', op: 'eq', value: { x: 1 } },
      'definition.value: eq needs a string, number, boolean or null',
    ],
    [
      { prop: 'a', op: 'eq', value: Number.NaN },
      'definition.value: eq needs a string, number, boolean or null',
    ],
    [{ prop: 'a', op: 'in', value: ['x', 2, null] }, null],
    [{ prop: 'a', op: 'in', value: 'x' }, 'definition.value: in needs a non-empty list'],
    [
      { prop: 'a', op: 'in', value: ['x', [1]] },
      'definition.value[1]: expected a string, number, boolean or null',
    ],
    [{ prop: 'a', op: 'gte', value: 1.5 }, null],
    [{ prop: 'a', op: 'lt', value: '2' }, 'definition.value: lt needs a number'],
    [{ prop: 'a', op: 'between', value: [1, 1] }, null],
    [{ prop: 'a', op: 'between', value: [3, 1] }, 'definition.value: between: low 3 is above high 1'],
    [{ prop: 'a', op: 'between', value: [1] }, 'definition.value: between needs [low, high] numbers'],
    [{ prop: 'a', op: 'contains', value: 'x' }, null],
    [{ prop: 'a', op: 'contains', value: '' }, 'definition.value: contains needs a non-empty string'],
    [{ prop: 'a', op: 'contains', value: 1 }, 'definition.value: contains needs a non-empty string'],
    [{ prop: 'a', op: 'set' }, null],
    [{ prop: 'a', op: 'notset', value: 1 }, 'definition.value: notset takes no value'],
    [
      { prop: 'a', op: 'like', value: 1 },
      'definition.op: unknown operator "like" (expected eq, neq, in, gt, gte, lt, lte, between, contains, set, notset)',
    ],
  ];
  it.each(cases)('%j', (input, expected) => {
    if (expected === null) expect(() => parseCondition(input)).not.toThrow();
    else expect(problem(input)).toBe(expected);
  });
});

describe('parseCondition: behaviour conditions', () => {
  const cases: Array<[unknown, string | null]> = [
    [{ did: 'buy', count: { op: 'gte', value: 3 }, within: { last: '30m' } }, null],
    [
      {
        not_did: 'buy',
        count: { op: 'between', value: [0, 2] },
        within: { from: '2024-01-01', to: '2024-02-01T00:00:00Z' },
      },
      null,
    ],
    [{ did: '' }, 'definition.did: expected an event name (a non-empty string)'],
    [{ did: 'buy', count: 3 }, 'definition.count: expected {op, value}'],
    [
      { did: 'buy', count: { op: 'gte', value: -1 } },
      'definition.count.value: gte needs a whole number >= 0',
    ],
    [{ did: 'buy', count: { op: 'eq', value: 1.5 } }, 'definition.count.value: eq needs a whole number >= 0'],
    [{ did: 'buy', count: { op: 'lt', value: 0 } }, 'definition.count.value: no count is below 0'],
    [
      { did: 'buy', count: { op: 'between', value: [2, 1] } },
      'definition.count.value: between: low 2 is above high 1',
    ],
    [
      { did: 'buy', count: { op: 'in', value: 1 } },
      'definition.count.op: unknown count operator "in" (expected eq, neq, gt, gte, lt, lte, between)',
    ],
    [{ did: 'buy', within: { last: '0d' } }, 'definition.within.last: must be longer than zero'],
    [
      { did: 'buy', within: { last: '-1d' } },
      'definition.within.last: "-1d" is not a duration (e.g. 30m, 12h, 7d, 2w)',
    ],
    [
      { did: 'buy', within: { last: 7 } },
      'definition.within.last: 7 is not a duration (e.g. 30m, 12h, 7d, 2w)',
    ],
    [{ did: 'buy', within: { last: '4000d' } }, 'definition.within.last: longer than 3660d'],
    [
      { did: 'buy', within: { from: '2024-02-01', to: '2024-01-01' } },
      'definition.within.to: must be after from',
    ],
    [
      { did: 'buy', within: { from: '2024-01-01', to: '2024-01-01' } },
      'definition.within.to: must be after from',
    ],
    [
      { did: 'buy', within: { from: 'yesterday', to: '2024-01-01' } },
      'definition.within.from: "yesterday" is not a time (epoch s/ms, YYYY-MM-DD or ISO)',
    ],
    [
      { did: 'buy', within: { from: '2024-01-01' } },
      'definition.within.to: missing (a window is {last} or {from, to})',
    ],
    [
      { did: 'buy', within: { last: '1d', from: 0 } },
      'definition.within.from: unknown field (expected last)',
    ],
    [{ did: 'buy', within: 'last 7d' }, 'definition.within: expected {last} or {from, to}'],
    [{ did: 'buy', where: { prop: 'a' } }, 'definition.where: expected a list of at most 100 filters'],
    [{ did: 'buy', where: ['a'] }, 'definition.where[0]: expected a filter {prop, op, value}'],
    [
      { did: 'buy', where: [{ prop: 'a', value: 1, tag: 'x' }] },
      'definition.where[0].tag: unknown field (expected prop, op, value)',
    ],
  ];
  it.each(cases)('%j', (input, expected) => {
    if (expected === null) expect(() => parseCondition(input)).not.toThrow();
    else expect(problem(input)).toBe(expected);
  });
});

describe('parseCondition: catalog', () => {
  const catalog: Catalog = {
    events: new Set(['buy', 'view', '$click']),
    properties: new Map([
      ['age', 'number'],
      ['plan', 'string'],
      ['vip', 'boolean'],
    ]),
    eventProperties: new Map([
      ['buy', new Map([['price', 'number']])],
      ['view', new Map([['price', 'number']])],
      ['$click', new Map([['$el_text', 'string']])],
    ]),
  };
  const cases: Array<[unknown, string | null]> = [
    [
      {
        and: [
          { prop: 'age', op: 'gt', value: 3 },
          { prop: 'plan', op: 'in', value: ['a', null] },
        ],
      },
      null,
    ],
    [{ prop: 'vip', value: true }, null],
    [{ prop: 'vip', op: 'notset' }, null],
    [{ did: 'buy', where: [{ prop: 'price', op: 'between', value: [1, 2] }] }, null],
    [{ prop: 'agee', op: 'gt', value: 3 }, 'definition.prop: unknown property "agee"'],
    [{ did: 'purchase' }, 'definition.did: unknown event "purchase"'],
    [{ not_did: 'purchase' }, 'definition.not_did: unknown event "purchase"'],
    [
      { did: 'buy', where: [{ prop: 'age', value: 3 }] },
      'definition.where[0].prop: unknown property "age" of event "buy"',
    ],
    [
      {
        and: [
          { prop: 'age', op: 'gt', value: 3 },
          { not_did: 'buy', where: [{ prop: 'foo', value: 1 }] },
        ],
      },
      'definition.and[1].where[0].prop: unknown property "foo" of event "buy"',
    ],
    // Known elsewhere is not enough: $click events never carried a price.
    [
      { did: '$click', where: [{ prop: 'price', op: 'gt', value: 1 }] },
      'definition.where[0].prop: unknown property "price" of event "$click"',
    ],
    [{ prop: 'age', value: '30' }, 'definition.value: "30" is a string, but "age" is a number property'],
    [
      { prop: 'plan', op: 'in', value: ['a', 1] },
      'definition.value[1]: 1 is a number, but "plan" is a string property',
    ],
    [
      { prop: 'plan', op: 'gte', value: 1 },
      'definition.op: gte compares numbers, but "plan" is a string property',
    ],
    [
      { prop: 'age', op: 'contains', value: '1' },
      'definition.op: contains needs a string property, but "age" is a number property',
    ],
    [
      { did: 'view', where: [{ prop: 'price', value: 'cheap' }] },
      'definition.where[0].value: "cheap" is a string, but "price" is a number property',
    ],
  ];
  it.each(cases)('%j', (input, expected) => {
    if (expected === null) expect(() => parseCondition(input, { catalog })).not.toThrow();
    else expect(problem(input, { catalog })).toBe(expected);
  });
});

describe('parseCondition: defined events', () => {
  const catalog: Catalog = {
    events: new Set(['$click', 'buy']),
    eventProperties: new Map([
      ['$click', new Map<string, PropType>([['$el_text', 'string']])],
      ['buy', new Map<string, PropType>([['price', 'number']])],
    ]),
  };
  const events = (name: string) =>
    name === 'Pressed buy'
      ? { event: '$click', where: [{ prop: '$el_text', op: 'eq' as const, value: 'Buy' }] }
      : undefined;

  it('accepts a defined name the event catalog does not know, and keeps the name', () => {
    expect(
      parseCondition({ did: 'Pressed buy', count: { op: 'gte', value: 2 } }, { catalog, events }),
    ).toEqual({
      did: 'Pressed buy',
      count: { op: 'gte', value: 2 },
    });
    expect(problem({ did: 'Pressed sell' }, { catalog, events })).toBe(
      'definition.did: unknown event "Pressed sell"',
    );
  });

  it('checks filters against the properties of the event it stands for', () => {
    expect(() =>
      parseCondition(
        { not_did: 'Pressed buy', where: [{ prop: '$el_text', op: 'contains', value: 'B' }] },
        { catalog, events },
      ),
    ).not.toThrow();
    expect(problem({ did: 'Pressed buy', where: [{ prop: 'price', value: 3 }] }, { catalog, events })).toBe(
      'definition.where[0].prop: unknown property "price" of event "$click" (defined event "Pressed buy")',
    );
    expect(
      problem({ did: 'Pressed buy', where: [{ prop: '$el_text', value: 3 }] }, { catalog, events }),
    ).toBe('definition.where[0].value: 3 is a number, but "$el_text" is a string property');
  });
});

describe('parseCondition: segment references', () => {
  const stored: Record<string, Condition | null> = {
    a: { or: [{ tag: 'x' }, { segment: 'b' }] },
    b: { not: { segment: 'c' } },
    c: { tag: 'y' },
    list: null,
    broken: { segment: 'gone' },
  };
  const lookup = (id: string) => {
    const d = stored[id];
    return d === undefined ? undefined : d === null ? {} : { definition: d };
  };

  it('accepts references to known segments, static ones included', () => {
    expect(() => parseCondition({ and: [{ segment: 'a' }, { segment: 'list' }] }, { lookup })).not.toThrow();
    expect(() => parseCondition({ segment: 'a' }, { lookup, self: 'new' })).not.toThrow();
  });

  it('rejects unknown segments, at the referring node', () => {
    expect(problem({ and: [{ tag: 'q' }, { segment: 'nope' }] }, { lookup })).toBe(
      'definition.and[1].segment: unknown segment "nope"',
    );
    expect(problem({ segment: 'broken' }, { lookup })).toBe(
      'definition.segment: segment "broken" refers to unknown segment "gone"',
    );
    expect(problem({ segment: 'broken' }, { lookup, self: 'z' })).toBe(
      'definition.segment: segment "broken" refers to unknown segment "gone"',
    );
  });

  it('follows rule tags: reading a tag whose segment reads back is a cycle', () => {
    const rules = (tag: string) => (tag === 'x-tag' ? 'a' : undefined);
    expect(problem({ tag: 'x-tag' }, { lookup, rules, self: 'c' })).toBe(
      'definition.tag: cycle: c -> a -> b -> c',
    );
    expect(() => parseCondition({ tag: 'x-tag' }, { lookup, rules, self: 'new' })).not.toThrow();
    // a reads tag x: once x is the rule tag of "new", "new" may not read a.
    const intoNew = (tag: string) => (tag === 'x' ? 'new' : undefined);
    expect(() => parseCondition({ segment: 'a' }, { lookup, self: 'new' })).not.toThrow();
    expect(problem({ segment: 'a' }, { lookup, rules: intoNew, self: 'new' })).toBe(
      'definition.segment: cycle: new -> a -> new',
    );
    expect(() => parseCondition({ tag: 'x-tag', value: 'v' }, { lookup, rules })).not.toThrow();
  });

  it('detects cycles through the segment being replaced', () => {
    expect(problem({ segment: 'c' }, { lookup, self: 'c' })).toBe('definition.segment: cycle: c -> c');
    expect(problem({ and: [{ tag: 'y' }, { segment: 'a' }] }, { lookup, self: 'c' })).toBe(
      'definition.and[1].segment: cycle: c -> a -> b -> c',
    );
    // A cycle among stored segments that skips `self` is reported too.
    stored.c = { segment: 'a' };
    try {
      expect(problem({ segment: 'a' }, { lookup, self: 'new' })).toBe(
        'definition.segment: cycle: new -> a -> b -> c -> a',
      );
    } finally {
      stored.c = { tag: 'y' };
    }
  });
});

describe('parsePropCondition', () => {
  it('validates one comparison under a path', () => {
    expect(parsePropCondition({ prop: 'age', op: 'lte', value: 3 }, 'checks.young')).toEqual({
      prop: 'age',
      op: 'lte',
      value: 3,
    });
    expect(() => parsePropCondition('age', 'checks.young')).toThrow(
      'checks.young: expected {prop, op, value}',
    );
    expect(() =>
      parsePropCondition({ prop: 'age', op: 'eq', value: 'x' }, 'checks.c', {
        properties: new Map([['age', 'number']]),
      }),
    ).toThrow('checks.c.value: "x" is a string, but "age" is a number property');
  });
});

describe('parseSegmentSpec', () => {
  it('accepts the three modes', () => {
    expect(parseSegmentSpec({ name: ' Buyers ', definition: { did: 'buy' } })).toEqual({
      name: 'Buyers',
      mode: 'realtime',
      definition: { did: 'buy' },
    });
    expect(
      parseSegmentSpec({
        name: 'Daily',
        mode: 'scheduled',
        schedule: '30 5 * * *',
        definition: { tag: 'a' },
      }),
    ).toEqual({
      name: 'Daily',
      mode: 'scheduled',
      schedule: '30 5 * * *',
      tz: 'UTC',
      definition: { tag: 'a' },
    });
    expect(parseSegmentSpec({ name: 'List', mode: 'static', description: 'uploaded' })).toEqual({
      name: 'List',
      mode: 'static',
      description: 'uploaded',
    });
  });

  it('names the bad field', () => {
    const message = (input: unknown) => error(() => parseSegmentSpec(input)).message;
    expect(message('x')).toBe('body: expected a segment {name, mode, definition, schedule?, tz?}');
    expect(message({ definition: { tag: 'a' } })).toBe('name: expected a name (a non-empty string)');
    expect(message({ name: 'a', mode: 'live', definition: { tag: 'a' } })).toMatch(
      /^mode: unknown mode "live"/,
    );
    expect(message({ name: 'a' })).toBe('definition: a realtime segment needs a definition');
    expect(message({ name: 'a', mode: 'static', definition: { tag: 'a' } })).toBe(
      'definition: a static segment is an uploaded list and has no definition',
    );
    expect(message({ name: 'a', schedule: '* * * * *', definition: { tag: 'a' } })).toBe(
      'schedule: only scheduled segments have a schedule',
    );
    expect(message({ name: 'a', mode: 'scheduled', definition: { tag: 'a' } })).toBe(
      'schedule: expected a cron expression, e.g. "30 5 * * *"',
    );
    expect(message({ name: 'a', mode: 'scheduled', schedule: '30 25 * * *', definition: { tag: 'a' } })).toBe(
      'schedule: hour: 25 is out of range 0-23',
    );
    expect(
      message({
        name: 'a',
        mode: 'scheduled',
        schedule: '0 0 * * *',
        tz: 'Mars/Base',
        definition: { tag: 'a' },
      }),
    ).toBe('tz: unknown time zone "Mars/Base"');
    expect(message({ name: 'a', definition: { and: [{ tag: 'a' }, { tag: '' }] } })).toBe(
      'definition.and[1].tag: expected a tag name (a non-empty string)',
    );
    expect(message({ name: 'a', definition: { tag: 'a' }, owner: 'me' })).toMatch(/^owner: unknown field/);
  });

  it('checks references and cycles of the definition', () => {
    const lookup = (id: string) => (id === 'b' ? { definition: { segment: 'a' } as Condition } : undefined);
    expect(() =>
      parseSegmentSpec({ name: 'a', definition: { segment: 'b' } }, { lookup, self: 'a' }),
    ).toThrow('definition.segment: cycle: a -> b -> a');
  });
});
