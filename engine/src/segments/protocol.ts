import type { Plan, PropCondition, PropType, SegmentMode } from '@weft/segments';

/**
 * Requests of the `segments` query kind (main -> shard) and their answers. Plans are compiled
 * on the HTTP thread (validation happens there), so shards only evaluate.
 */

/** A segment as a shard maintains it: plans keep `{segment}` references to maintained members. */
export interface ShardSegmentDef {
  id: string;
  mode: SegmentMode;
  /** Realtime and scheduled segments. */
  plan?: Plan;
  /** Static segments: the uploaded distinct ids. */
  members?: string[];
}

/** One decide check, compiled; A/B needs no state and is answered on the HTTP thread. */
export type ShardCheck =
  | { name: string; kind: 'segment'; id: string }
  | { name: string; kind: 'plan'; plan: Plan }
  | { name: string; kind: 'prop'; cond: PropCondition }
  | { name: string; kind: 'cap'; key: string; max: number; perMs: number };

export interface CapAnswer {
  allowed: boolean;
  remaining: number;
  reset_at: number;
}

export type SegmentRequest =
  | { op: 'define'; project: string; segments: ShardSegmentDef[] }
  | { op: 'delete'; project: string; id: string }
  | { op: 'run'; project: string; id: string }
  | { op: 'rules'; project: string; rules: Record<string, string> }
  | { op: 'estimate'; project: string; plan: Plan }
  | { op: 'size'; project: string; id: string }
  | { op: 'members'; project: string; id: string; fields: string[] }
  | { op: 'contains'; project: string; id: string; distinctId: string }
  | { op: 'portrait'; project: string; id: string; prop: string; kind?: 'enum' | 'numeric' }
  | { op: 'catalog'; project: string }
  | { op: 'tags'; project: string }
  | { op: 'tag-history'; project: string; tag: string; limit: number }
  | { op: 'user'; project: string; distinctId: string }
  | {
      op: 'decide';
      project: string;
      distinctId: string;
      /** Names the compiled check set; shards keep sets they were sent, so calls after the first omit `checks`. */
      set: string;
      checks?: ShardCheck[];
      /** When set, a shard that does not know the id answers `{known: false}` and consumes nothing. */
      ifKnown: boolean;
    };

/**
 * Requests that read every user of a project. With peers (Kafka mode) they wait, like
 * analyses, until each partition applied everything acknowledged anywhere before they began.
 */
export const AGGREGATE_OPS: ReadonlySet<SegmentRequest['op']> = new Set([
  'estimate',
  'size',
  'run',
  'members',
  'portrait',
  'catalog',
  'tags',
  'tag-history',
]);

export interface DecideAnswer {
  known: boolean;
  results: Record<string, boolean | CapAnswer>;
  /** The shard does not hold the call's check set (never sent, or dropped): send it again with `checks`. */
  unknownSet?: true;
}

/** A shard's share of a portrait: value counts, or the numbers (for exact quartiles). */
export type PortraitPart =
  | { kind: 'enum'; total: number; missing: number; counts: Array<[PresentValue, number]> }
  | { kind: 'numeric'; total: number; numbers: Float64Array };

type PresentValue = string | number | boolean | null;

export interface CatalogPart {
  events: string[];
  properties: Array<[string, PropType]>;
  /** Per event, the properties its events carry. */
  eventProperties: Array<[string, Array<[string, PropType]>]>;
}

export interface TagHistoryEntry {
  distinct_id: string;
  op: 'add' | 'remove';
  value: string | null;
  source: string | null;
  time: number;
}

/** An entry or exit, for the change feed. */
export interface SegmentChange {
  project: string;
  segment: string;
  distinct_id: string;
  change: 'entry' | 'exit';
  at: number;
}
