import type { MessagePort } from 'node:worker_threads';
import type { BatchResult, IngestLimits, ProjectKeys, Properties, WeftEvent } from '@weft/core';
import type { RawBatch } from '@weft/ingest';
import type { StoredEvent } from '../index/project-index.js';

/** Records on the bus (msgpack): new events, an eviction order, or events moved in from another shard. */
export type BusRecord =
  | { k: 'e'; p: string; ev: WeftEvent[] }
  | { k: 'x'; p: string; id: string; to: number }
  | { k: 'm'; p: string; id: string; ev: StoredEvent[]; prof: Properties | null };

export interface ShardWorkerData {
  shard: number;
  dataDir: string;
  snapshotIntervalMs: number;
  ingestPort: MessagePort;
}

export interface IngestWorkerData {
  dataDir: string;
  shards: number;
  fsync: 'always' | 'interval' | 'none';
  fsyncIntervalMs: number;
  validEnds: number[];
  keys: ProjectKeys[];
  limits: IngestLimits;
  shardPorts: MessagePort[];
}

/** ingest worker -> shard, over the shard's port. */
export interface RecordsMessage {
  type: 'records';
  payload: Uint8Array;
  end: number;
}

export type QueryKind = 'events' | 'timeline' | 'stats';

/** main -> shard */
export type ShardRequest =
  | { type: 'query'; id: number; kind: QueryKind; args: unknown; minOffset: number }
  | { type: 'snapshot'; id: number }
  | { type: 'moved-ack'; count: number }
  | { type: 'close'; id: number };

/** shard -> main */
export type ShardReply =
  | { type: 'ready'; validEnd: number; rows: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string }
  | {
      type: 'moved';
      project: string;
      distinctId: string;
      to: number;
      events: StoredEvent[];
      profile: Properties | null;
    };

/** main -> ingest worker */
export type IngestRequest =
  | { type: 'batch'; id: number; raw: RawBatch }
  | { type: 'publish'; id: number; project: string; events: WeftEvent[] }
  | {
      type: 'move';
      id: number;
      project: string;
      distinctId: string;
      to: number;
      events: StoredEvent[];
      profile: Properties | null;
    }
  | { type: 'close'; id: number };

/** ingest worker -> main. `ends` are partition end offsets after this request's appends. */
export type IngestReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; result: BatchResult | null; ends: Array<[number, number]> }
  | { type: 'failed'; id: number; code: string; message: string; details?: unknown; retryAfter?: number };
