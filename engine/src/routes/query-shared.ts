import { invalid, WeftError } from '@weft/core';
import type { ClickHouse } from '../clickhouse/client.js';
import type { DefinitionStore } from '../definitions/store.js';
import type { Engine } from '../engine.js';
import type { EventSpec } from '../query/step.js';
import { validateWhere, whereSchema } from './query-events.js';

/** What the analysis routes need: the shards, event definitions, and ClickHouse when configured. */
export interface AnalysisDeps {
  engine: Engine;
  definitions: DefinitionStore;
  clickhouse: ClickHouse | undefined;
}

export const specSchema = {
  type: 'object',
  required: ['event'],
  additionalProperties: false,
  properties: { event: { type: 'string', minLength: 1, maxLength: 200 }, where: whereSchema },
} as const;

export const commonProperties = {
  from: { type: 'string', minLength: 1 },
  to: { type: 'string', minLength: 1 },
  segment: { type: 'array', items: { type: 'string' }, maxItems: 1_000_000 },
  engine: { enum: ['index', 'clickhouse'] },
} as const;

export const durationSchema = { type: ['string', 'number'] } as const;

/** The ClickHouse to run on when the request asks for it; undefined for the index. */
export function clickhouseFor(
  deps: AnalysisDeps,
  engine: 'index' | 'clickhouse' | undefined,
): ClickHouse | undefined {
  if (engine !== 'clickhouse') return undefined;
  if (!deps.clickhouse) {
    throw new WeftError(
      'invalid',
      'engine: ClickHouse is not configured on this server (set CLICKHOUSE_URL)',
      {
        field: 'engine',
      },
    );
  }
  return deps.clickhouse;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** "30m", "1d", "90s", "500ms" or a number of milliseconds. */
export function parseDuration(value: string | number, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw invalid(field, 'expected whole milliseconds >= 0');
    return value;
  }
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(value);
  if (!m) throw invalid(field, 'expected a duration like "30m", "1d" or milliseconds');
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Checks filters and expands defined event names (definitions) into their event and filters. */
export function expandSpecs<T extends EventSpec>(
  deps: AnalysisDeps,
  project: string,
  specs: T[],
  path: string,
): T[] {
  specs.forEach((s, i) => {
    if (s.where) validateWhere(s.where, `${path}[${i}].where`);
  });
  return deps.definitions.expand(project, specs);
}
