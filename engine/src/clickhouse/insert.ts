import type { PropValue, WeftEvent } from '@weft/core';
import type { ClickHouse } from './client.js';

/** Type markers of prop_types. */
export const PROP_STRING = 0;
export const PROP_NUMBER = 1;
export const PROP_BOOLEAN = 2;
export const PROP_NULL = 3;

export interface EventRow {
  project: string;
  event: string;
  event_id: string;
  distinct_id: string;
  time_ms: number;
  received_at: number;
  session_id: string;
  url: string;
  path: string;
  el_selector: string;
  x: number | null;
  y: number | null;
  prop_keys: string[];
  prop_values: string[];
  prop_types: number[];
  prop_numbers: number[];
}

function typeOf(v: PropValue): number {
  if (typeof v === 'string') return PROP_STRING;
  if (typeof v === 'number') return PROP_NUMBER;
  if (typeof v === 'boolean') return PROP_BOOLEAN;
  return PROP_NULL;
}

/** The text form of a value in prop_values (what SQL breakdowns and string filters see). */
export function propText(v: PropValue): string {
  return v === null ? '' : String(v);
}

function hot(v: PropValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function coordinate(v: PropValue | undefined): number | null {
  return typeof v === 'number' ? v : null;
}

export function eventRow(e: WeftEvent): EventRow {
  const keys = Object.keys(e.properties);
  const values = keys.map((k) => e.properties[k] as PropValue);
  return {
    project: e.project,
    event: e.event,
    event_id: e.event_id,
    distinct_id: e.distinct_id,
    time_ms: e.time,
    received_at: e.received_at,
    session_id: e.session_id ?? '',
    url: hot(e.properties.$url),
    path: hot(e.properties.$path),
    el_selector: hot(e.properties.$el_selector),
    x: coordinate(e.properties.$x),
    y: coordinate(e.properties.$y),
    prop_keys: keys,
    prop_values: values.map(propText),
    prop_types: values.map(typeOf),
    prop_numbers: values.map((v) => (typeof v === 'number' ? v : 0)),
  };
}

/** A row of `identities`: a distinct id and its person as the index resolves it (see person-rows.ts). */
export interface IdentityRow {
  project: string;
  distinct_id: string;
  person: string;
  version: number;
}

const BATCH = 50_000;

/**
 * Inserts events into `events` in large batches. Safe to repeat: replayed rows collapse on
 * merge (see the migration). Persons come from the index that applied the same events
 * (person-rows.ts), since only it resolves chains of identifies.
 */
export async function insertEvents(ch: ClickHouse, events: readonly WeftEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += BATCH) {
    await ch.insert('events', events.slice(i, i + BATCH).map(eventRow));
  }
}
