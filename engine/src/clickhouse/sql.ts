import type { Interval, PropValue } from '@weft/core';
import type { EventSpec } from '../query/step.js';
import type { WhereClause } from '../query/where.js';
import type { ClickHouse } from './client.js';
import { PROP_BOOLEAN, PROP_NULL, PROP_NUMBER, PROP_STRING } from './insert.js';

/** A ClickHouse string literal. */
export function str(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A finite number literal (rejects NaN and infinities, which have no SQL spelling here). */
export function num(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  return String(n);
}

export function strArray(values: readonly string[]): string {
  return `[${values.map(str).join(', ')}]`;
}

/** 1-based position of property `prop` in the row's key array (0 when absent). */
export function propIndex(prop: string): string {
  return `indexOf(prop_keys, ${str(prop)})`;
}

/** A clause as a boolean SQL expression with the same meaning as where.ts on the index. */
export function whereSql(clause: WhereClause): string {
  const i = propIndex(clause.prop);
  const type = `prop_types[${i}]`;
  const text = `prop_values[${i}]`;
  const number = `prop_numbers[${i}]`;
  const present = `${i} > 0`;
  const equals = (v: PropValue): string => {
    if (typeof v === 'string') return `(${type} = ${PROP_STRING} AND ${text} = ${str(v)})`;
    if (typeof v === 'number') return `(${type} = ${PROP_NUMBER} AND ${number} = ${num(v)})`;
    if (typeof v === 'boolean') return `(${type} = ${PROP_BOOLEAN} AND ${text} = ${str(String(v))})`;
    return `(${type} = ${PROP_NULL})`;
  };
  const numeric = `${type} = ${PROP_NUMBER}`;
  const value = clause.value;
  switch (clause.op ?? 'eq') {
    case 'eq':
      return `(${present} AND ${equals(value as PropValue)})`;
    case 'neq':
      return `NOT (${present} AND ${equals(value as PropValue)})`;
    case 'in': {
      const list = Array.isArray(value) ? value : [value as PropValue];
      return list.length === 0 ? '0' : `(${present} AND (${list.map(equals).join(' OR ')}))`;
    }
    case 'contains':
      return `(${present} AND ${type} = ${PROP_STRING} AND position(${text}, ${str(String(value))}) > 0)`;
    case 'gt':
      return `(${present} AND ${numeric} AND ${number} > ${num(value as number)})`;
    case 'gte':
      return `(${present} AND ${numeric} AND ${number} >= ${num(value as number)})`;
    case 'lt':
      return `(${present} AND ${numeric} AND ${number} < ${num(value as number)})`;
    case 'lte':
      return `(${present} AND ${numeric} AND ${number} <= ${num(value as number)})`;
    case 'between': {
      const [lo, hi] = value as [number, number];
      return `(${present} AND ${numeric} AND ${number} >= ${num(lo)} AND ${number} <= ${num(hi)})`;
    }
    case 'set':
      return present;
    case 'notset':
      return `NOT ${present}`;
  }
}

/** Whether a row is an occurrence of the spec. */
export function specSql(spec: EventSpec): string {
  const parts = [`event = ${str(spec.event)}`, ...(spec.where ?? []).map(whereSql)];
  return `(${parts.join(' AND ')})`;
}

/** Rows of the project inside [from, to): the DateTime bound prunes partitions, time_ms is exact. */
export function rangeSql(project: string, from: number, to: number): string {
  return `project = ${str(project)} AND time >= toDateTime(${Math.floor(from / 1000)}, 'UTC') AND time <= toDateTime(${Math.floor((to - 1) / 1000)}, 'UTC') AND time_ms >= ${from} AND time_ms < ${to}`;
}

/**
 * Events with the person each belongs to (FINAL: a replayed event — at-least-once delivery
 * from Kafka, a retried import — counts once even before ClickHouse merges its copies).
 * `identities` holds the index's resolved mapping, every id of a person -> its canonical id
 * (chains of identifies and merges followed, re-written when the person changes), so one
 * join finds the person; an id without a row is its own person.
 */
export function eventsSource(ch: ClickHouse, project: string): string {
  return `${ch.table('events')} FINAL ANY LEFT JOIN (
      SELECT distinct_id, argMax(person, version) AS linked FROM ${ch.table('identities')}
      WHERE project = ${str(project)} GROUP BY distinct_id) USING distinct_id`;
}

/** The person of a row of `eventsSource`. */
export const PERSON = "if(linked = '', distinct_id, linked)";

/** Segment filter (rows of `eventsSource`): persons of the listed ids, or '1' for everyone. */
export function segmentSql(ch: ClickHouse, project: string, users: readonly string[] | undefined): string {
  if (users === undefined) return '1';
  const list = users.length === 0 ? "''" : users.map(str).join(', ');
  return `(${PERSON} IN (${list}) OR ${PERSON} IN (
      SELECT argMax(person, version) FROM ${ch.table('identities')}
      WHERE project = ${str(project)} AND distinct_id IN (${list}) GROUP BY distinct_id))`;
}

/** Start (unix seconds) of the row's interval in `tz`, matching core bucketStart. */
export function bucketSql(interval: Interval, tz: string): string {
  const z = str(tz);
  switch (interval) {
    case 'hour':
      return `toUnixTimestamp(toStartOfHour(time, ${z}))`;
    case 'day':
      return `toUnixTimestamp(toDateTime(toDate(time, ${z}), ${z}))`;
    case 'week':
      return `toUnixTimestamp(toDateTime(toMonday(toDate(time, ${z})), ${z}))`;
    case 'month':
      return `toUnixTimestamp(toDateTime(toStartOfMonth(toDate(time, ${z})), ${z}))`;
  }
}

/** A property's value as (type, text, number) for breakdowns; absent reads as null. */
export function propValueSql(prop: string): { type: string; text: string; number: string } {
  const i = propIndex(prop);
  return {
    type: `if(${i} = 0, ${PROP_NULL}, prop_types[${i}])`,
    text: `prop_values[${i}]`,
    number: `prop_numbers[${i}]`,
  };
}

/** Back from (type, text, number) to the value the index reports. */
export function propValueOf(type: number, text: string, number: number): PropValue {
  if (type === PROP_STRING) return text;
  if (type === PROP_NUMBER) return number;
  if (type === PROP_BOOLEAN) return text === 'true';
  return null;
}
