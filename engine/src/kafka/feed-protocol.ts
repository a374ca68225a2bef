/** Messages between the process's Kafka consumer (in the ingest worker) and a partition's shard. */

/** consumer -> shard */
export type FeedToShard =
  /** Sent once before records: offsets below chFrom are committed, so already in ClickHouse. */
  | { type: 'start'; chFrom: number }
  /** Consecutive records of the partition, with their offsets; end = last offset + 1. */
  | { type: 'records'; payloads: Uint8Array[]; offsets: number[]; end: number };

/** shard -> consumer */
export type ShardToFeed =
  /**
   * Where the shard stands: `applied` records taken (-1 while it wants the consumer to
   * pause), `index` the offset its snapshot covers, `ch` the offset ClickHouse holds.
   */
  | { type: 'progress'; applied: number; index: number; ch: number }
  | { type: 'dead'; offset: number; reason: string; payload: Uint8Array };
