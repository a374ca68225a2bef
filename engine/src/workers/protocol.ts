import type { MessagePort } from 'node:worker_threads';
import type { BatchResult, IngestLimits, ProjectKeys, Properties, WeftEvent } from '@weft/core';
import type { RawBatch } from '@weft/ingest';
import type { ClickHouseOptions } from '../clickhouse/client.js';
import type { Link } from '../identity/router.js';
import type { StoredEvent } from '../index/project-index.js';
import type { SegmentChange } from '../segments/protocol.js';

/**
 * Control records on the bus (msgpack after RECORD_CONTROL): an eviction order; aliases
 * (`ids` join the person of `id`, written ahead of a person moving in); or history moved in,
 * with every id of the person (`ids` is absent in records written before moves carried them).
 */
export type BusRecord =
  | { k: 'x'; p: string; id: string; to: number }
  | { k: 'a'; p: string; id: string; ids: string[] }
  | {
      k: 'm';
      p: string;
      id: string;
      ids?: string[];
      ev: StoredEvent[];
      prof: Properties | null;
      /** Forwarded events' `$set`s, applied over the profile (`prof` is applied as `$set_once`). */
      set?: Properties;
    };

export interface ShardWorkerData {
  shard: number;
  dataDir: string;
  /** The shard's own state (snapshots, segment state). */
  dir: string;
  /** `log`: replay and follow the embedded log. `kafka`: records arrive from the consumer with offsets. */
  source: 'log' | 'kafka';
  /** Kafka mode: where the partition's raw events go. */
  clickhouse?: ClickHouseOptions;
  snapshotIntervalMs: number;
  ingestPort: MessagePort;
}

/** A shard's answer to `close`: offsets its snapshot and ClickHouse hold. */
export interface ShardClosed {
  index: number;
  ch: number;
}

export interface IngestWorkerData {
  dataDir: string;
  shards: number;
  fsync: 'always' | 'interval' | 'none';
  fsyncIntervalMs: number;
  logSegmentBytes: number;
  validEnds: number[];
  keys: ProjectKeys[];
  limits: IngestLimits;
  /** Embedded mode: one port per shard. Kafka mode: none (ports arrive with `attach`). */
  shardPorts: MessagePort[];
  /** Kafka mode: records go back to the main thread, which produces them. */
  relay: boolean;
}

/** ingest worker -> shard, over the shard's port: records appended to its partition, in order. */
export interface RecordsMessage {
  type: 'records';
  payloads: Uint8Array[];
  end: number;
}

/** Query kinds over many users; with peers they wait for every partition's end offset. */
export const ANALYSIS_KINDS = ['events', 'funnel', 'funnel-users', 'retention', 'paths', 'heatmap'] as const;
export const QUERY_KINDS = [...ANALYSIS_KINDS, 'timeline', 'stats', 'segments', 'user'] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

export interface ShardQuery {
  type: 'query';
  id: number;
  kind: QueryKind;
  args: unknown;
  minOffset: number;
}

/** main -> shard */
export type ShardRequest =
  | ShardQuery
  /** The queries of one event-loop turn: a message each would cost more than most answers. */
  | { type: 'queries'; queries: ShardQuery[] }
  | { type: 'snapshot'; id: number }
  | { type: 'moved-ack'; count: number }
  | { type: 'close'; id: number };

export type ShardAnswer =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string };

/** shard -> main */
export type ShardReply =
  | { type: 'ready'; validEnd: number; rows: number }
  | { type: 'snapshotted'; offset: number }
  | ShardAnswer
  /** Answers to a `queries` message that were ready at once. */
  | { type: 'answers'; answers: ShardAnswer[] }
  | { type: 'segment-changes'; changes: SegmentChange[] }
  | {
      type: 'moved';
      project: string;
      distinctId: string;
      /** Every id of the evicted person. */
      ids: string[];
      to: number;
      events: StoredEvent[];
      profile: Properties | null;
      set?: Properties;
    };

/** One unit of work for the ingest worker; several travel in one message. */
export type IngestRequest =
  | { type: 'batch'; id: number; raw: RawBatch }
  | { type: 'publish'; id: number; project: string; events: WeftEvent[] }
  | {
      type: 'move';
      id: number;
      project: string;
      distinctId: string;
      ids: string[];
      to: number;
      events: StoredEvent[];
      profile: Properties | null;
      set?: Properties;
    }
  | { type: 'release'; id: number; partition: number; offset: number }
  /** Kafka mode: identity links read from the links topic, up to offset `end`. */
  | { type: 'learn'; id: number; links: Link[]; end: number }
  | { type: 'close'; id: number };

/** main -> ingest worker: the requests of one event-loop turn, answered together. */
export interface IngestMessage {
  type: 'requests';
  requests: IngestRequest[];
}

export type IngestOutcome =
  | { id: number; ok: true; result: BatchResult | null }
  | { id: number; ok: false; code: string; message: string; details?: unknown; retryAfter?: number };

/** ingest worker -> main: outcomes of one message, and partition end offsets after its appends. */
export type IngestReply =
  | { type: 'ready' }
  | {
      type: 'done';
      outcomes: IngestOutcome[];
      ends: number[];
      /** Kafka mode: the records to produce before the outcomes count as acknowledged. */
      records?: { partitions: number[]; payloads: Uint8Array[] };
      /** Ids (`moveKey`) whose history this message evicted to another shard, and that shard. */
      evicted?: Array<{ key: string; from: number }>;
      /** Kafka mode: identity links this message made, for the links topic. */
      links?: Link[];
    };

/** Names one evicted id across the ingest worker's reply and the shard's `moved`. */
export function moveKey(project: string, distinctId: string): string {
  return `${project}\u0000${distinctId}`;
}
