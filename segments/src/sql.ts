import type { PropValue } from '@weft/core';
import type { Condition, PropCondition } from './definition.js';
import { windowRange } from './evaluate.js';
import { type CompileOptions, compilePlan, type DidLeaf, type Plan } from './plan.js';

/**
 * ClickHouse SQL for a segment: the reference the index is verified against, and the query
 * a backfill runs. Kept to what ClickHouse 18.16 runs (so current releases run it too): no
 * CTEs, no window functions, no JOIN at all — every leaf is an `IN (subquery)` on the
 * person, combined with AND/OR/NOT over one scan of the project's persons.
 *
 * The tables, which the engine's ClickHouse module provides (names and the expression for an
 * event's person come from SegmentTables):
 *
 *   events    project String, event String, event_id String, <person>, time_ms UInt64,
 *             prop_keys Array(String), prop_values Array(String), prop_types Array(UInt8),
 *             prop_numbers Array(Float64)
 *             — one row per event, replays possibly not yet merged away, so did counts
 *             distinct event_id. Property i is prop_keys[i]; its text form is
 *             prop_values[i] ('true'/'false' for booleans, '' for null), its type marker
 *             prop_types[i] (PROP_TYPE) and its number prop_numbers[i] (0 unless numeric):
 *             the layout of the engine's events table.
 *   profiles  project String, person String, the same four prop_* arrays, version UInt64
 *             — ENGINE ReplacingMergeTree(version) ORDER BY (project, person): the latest
 *             version is the person's whole profile (read with FINAL).
 *   tags      project String, person String, tag String, value String ('' = no value),
 *             deleted UInt8, version UInt64
 *             — ENGINE ReplacingMergeTree(version) ORDER BY (project, person, tag); removal
 *             writes a newer row with deleted = 1.
 *   members   project String, segment String, person String
 *             — current lists of static segments (the engine replaces a list on upload).
 *
 * The persons considered ("all users" of NOT) are those any of these tables mentions.
 */
export interface SegmentTables {
  events: string;
  profiles: string;
  tags: string;
  members: string;
  /** Column or expression of `events` giving the event's person; default `person`. */
  eventPerson?: string;
}

/** Type markers of prop_types. */
export const PROP_TYPE = { string: 0, number: 1, boolean: 2, null: 3 } as const;

export interface SqlContext {
  project: string;
  /** Rolling windows end at this time (ms). */
  now: number;
  tables: SegmentTables;
}

/**
 * A ClickHouse string literal. Backslash and quote are escaped as the grammar needs; control
 * characters too, so the statement stays one readable line.
 */
export function sqlString(s: string): string {
  const escaped = s.replace(/[\\'\0\n\r\t]/g, (c) =>
    c === '\0' ? '\\0' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\${c}`,
  );
  return `'${escaped}'`;
}

/** A finite number literal (NaN and infinities have no spelling here). */
export function sqlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  return String(n);
}

/** A table name, `table` or `database.table`, back-quoted; anything else is refused. */
export function sqlTable(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name)) {
    throw new Error(`not a table name: ${JSON.stringify(name)}`);
  }
  return name
    .split('.')
    .map((part) => `\`${part}\``)
    .join('.');
}

/**
 * A property condition as a boolean expression over one row's prop_* arrays, with the
 * meaning of propMatches: type-strict equality, numeric operators on numbers only,
 * `neq`/`notset` true when the property is absent.
 */
export function propConditionSql(cond: PropCondition): string {
  const i = `indexOf(prop_keys, ${sqlString(cond.prop)})`;
  const present = `${i} > 0`;
  const type = `prop_types[${i}]`;
  const text = `prop_values[${i}]`;
  const number = `prop_numbers[${i}]`;
  const numeric = `${present} AND ${type} = ${PROP_TYPE.number}`;
  const equals = (v: PropValue): string => {
    if (typeof v === 'string') return `(${type} = ${PROP_TYPE.string} AND ${text} = ${sqlString(v)})`;
    if (typeof v === 'number') return `(${type} = ${PROP_TYPE.number} AND ${number} = ${sqlNumber(v)})`;
    if (typeof v === 'boolean') return `(${type} = ${PROP_TYPE.boolean} AND ${text} = '${v}')`;
    return `(${type} = ${PROP_TYPE.null})`;
  };
  switch (cond.op) {
    case 'eq':
      return `(${present} AND ${equals(cond.value)})`;
    case 'neq':
      return `NOT (${present} AND ${equals(cond.value)})`;
    case 'in':
      return `(${present} AND (${cond.value.map(equals).join(' OR ')}))`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[cond.op];
      return `(${numeric} AND ${number} ${op} ${sqlNumber(cond.value)})`;
    }
    case 'between':
      return `(${numeric} AND ${number} >= ${sqlNumber(cond.value[0])} AND ${number} <= ${sqlNumber(cond.value[1])})`;
    case 'contains':
      return `(${present} AND ${type} = ${PROP_TYPE.string} AND position(${text}, ${sqlString(cond.value)}) > 0)`;
    case 'set':
      return `(${present})`;
    case 'notset':
      return `NOT (${present})`;
  }
}

function didSql(leaf: DidLeaf, ctx: SqlContext): string {
  const { tables } = ctx;
  const personExpr = tables.eventPerson ?? 'person';
  const person = personExpr === 'person' ? 'person' : `${personExpr} AS person`;
  const { from, to } = windowRange(leaf.window, ctx.now);
  const filters = [
    `project = ${sqlString(ctx.project)}`,
    `event = ${sqlString(leaf.event)}`,
    ...leaf.where.map(propConditionSql),
  ];
  // time_ms is unsigned and whole: clamp bounds rather than compare with negatives or fractions.
  if (from > 0) filters.push(`time_ms >= ${sqlNumber(Math.ceil(from))}`);
  if (to !== Infinity) filters.push(to > 0 ? `time_ms < ${sqlNumber(Math.ceil(to))}` : '0');
  const having = [`uniqExact(event_id) >= ${leaf.min}`];
  if (leaf.max !== Infinity) having.push(`uniqExact(event_id) <= ${leaf.max}`);
  return `person IN (SELECT ${person} FROM ${sqlTable(tables.events)} WHERE ${filters.join(' AND ')} GROUP BY person HAVING ${having.join(' AND ')})`;
}

/** A plan as a boolean expression over the column `person`. */
function memberSql(plan: Plan, ctx: SqlContext): string {
  const project = `project = ${sqlString(ctx.project)}`;
  const { tables } = ctx;
  switch (plan.kind) {
    case 'all':
      return '1';
    case 'none':
      return '0';
    case 'and':
      return `(${plan.of.map((p) => memberSql(p, ctx)).join(' AND ')})`;
    case 'or':
      return `(${plan.of.map((p) => memberSql(p, ctx)).join(' OR ')})`;
    case 'not':
      return `NOT (${memberSql(plan.of, ctx)})`;
    case 'prop':
      return `person IN (SELECT person FROM ${sqlTable(tables.profiles)} FINAL WHERE ${project} AND ${propConditionSql(plan.cond)})`;
    case 'tag': {
      const value = plan.value === undefined ? '' : ` AND value = ${sqlString(plan.value)}`;
      return `person IN (SELECT person FROM ${sqlTable(tables.tags)} FINAL WHERE ${project} AND tag = ${sqlString(plan.tag)} AND deleted = 0${value})`;
    }
    case 'did':
      return didSql(plan, ctx);
    case 'segment':
      return `person IN (SELECT person FROM ${sqlTable(tables.members)} WHERE ${project} AND segment = ${sqlString(plan.id)})`;
  }
}

/** Every person of the project: anyone any table mentions. */
function personsSql(ctx: SqlContext): string {
  const project = `project = ${sqlString(ctx.project)}`;
  const { tables } = ctx;
  const eventPerson = tables.eventPerson ?? 'person';
  const parts = [
    `SELECT ${eventPerson === 'person' ? 'person' : `${eventPerson} AS person`} FROM ${sqlTable(tables.events)} WHERE ${project}`,
    `SELECT person FROM ${sqlTable(tables.profiles)} WHERE ${project}`,
    `SELECT person FROM ${sqlTable(tables.tags)} WHERE ${project}`,
    `SELECT person FROM ${sqlTable(tables.members)} WHERE ${project}`,
  ];
  return `SELECT DISTINCT person FROM (${parts.join(' UNION ALL ')})`;
}

/** The persons a plan selects, one column `person`, sorted. */
export function planMembersSql(plan: Plan, ctx: SqlContext): string {
  return `SELECT person FROM (${personsSql(ctx)}) WHERE ${memberSql(plan, ctx)} ORDER BY person`;
}

/** How many persons a plan selects, one column `count`. */
export function planCountSql(plan: Plan, ctx: SqlContext): string {
  return `SELECT count() AS count FROM (${personsSql(ctx)}) WHERE ${memberSql(plan, ctx)}`;
}

/**
 * The members of a validated definition at ctx.now. Referenced segments and rule tags are
 * inlined through `lookup` and `rules` (static segments read the members table), and defined
 * events expanded through `events`, so the query stands alone.
 */
export function segmentMembersSql(
  cond: Condition,
  ctx: SqlContext,
  options: Omit<CompileOptions, 'inline'> = {},
): string {
  return planMembersSql(compilePlan(cond, { ...options, inline: true }), ctx);
}
