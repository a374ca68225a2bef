import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

/** Limits enforced at the ingest edge; each violation is reported naming the field. */
export interface IngestLimits {
  /** Largest request body accepted, in bytes (413 above). */
  maxBodyBytes: number;
  /** Most events in one batch (413 above). */
  maxBatchEvents: number;
  /** Most properties on one event after flattening. */
  maxProperties: number;
  /** Longest string property value, in characters. */
  maxValueLength: number;
  /** Longest event name, distinct id, property key or session id. */
  maxNameLength: number;
  /** Deepest nesting flattened into dotted keys. */
  maxDepth: number;
}

export type FsyncPolicy = 'always' | 'interval' | 'none';

export interface WeftConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Index shards = worker threads; users are hashed onto them. */
  shards: number;
  /** `always`: ack after fdatasync (group commit). `interval`: ack after write(2), fdatasync every fsyncIntervalMs. */
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** How often each shard writes an incremental snapshot. */
  snapshotIntervalMs: number;
  /** Size at which a bus partition starts a new segment file; segments a snapshot covers are deleted. */
  logSegmentBytes: number;
  /** Batches queued to the ingest worker beyond which ingest answers 503. */
  maxPendingBatches: number;
  writeKey: string | undefined;
  secretKey: string | undefined;
  limits: IngestLimits;
  logLevel: string;
  kafkaBrokers: string | undefined;
  /** Topic of accepted events; its partition count is `shards` (the cluster's shard total). */
  kafkaTopic: string;
  /** Where events that fail checks after the bus go, with the reason in a header. */
  kafkaDeadLetterTopic: string;
  /** Consumer group the engine processes form. */
  kafkaGroup: string;
  /** How long a produce may wait for the broker before ingest answers 503. */
  kafkaMessageTimeoutMs: number;
  /** How long the group waits for a silent member before moving its partitions. */
  kafkaSessionTimeoutMs: number;
  /**
   * Where Kafka-mode partition state (index snapshots) lives. Point every engine process
   * at one directory (shared disk) so a partition's state moves with it on rebalance.
   */
  partitionDir: string;
  /** Other engine processes (base URLs) whose partitions queries fan out to. */
  peers: string[];
  clickhouseUrl: string | undefined;
  clickhouseDatabase: string;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatchEvents: 5000,
  maxProperties: 1000,
  maxValueLength: 8192,
  maxNameLength: 200,
  maxDepth: 5,
};

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${name}: expected an integer >= ${min}, got "${raw}"`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${name}: expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** Reads the configuration table of the README from the environment. */
export function loadConfig(env: Env = process.env): WeftConfig {
  return {
    host: env.WEFT_HOST || '127.0.0.1',
    port: int(env, 'WEFT_PORT', 8080),
    dataDir: resolve(env.WEFT_DATA_DIR || './data'),
    shards: int(env, 'WEFT_SHARDS', Math.max(1, Math.min(4, availableParallelism())), 1),
    fsync: oneOf(env, 'WEFT_FSYNC', ['always', 'interval', 'none'] as const, 'interval'),
    fsyncIntervalMs: int(env, 'WEFT_FSYNC_INTERVAL_MS', 200, 1),
    snapshotIntervalMs: int(env, 'WEFT_SNAPSHOT_INTERVAL_MS', 60_000, 100),
    logSegmentBytes: int(env, 'WEFT_LOG_SEGMENT_BYTES', 128 * 1024 * 1024, 4096),
    maxPendingBatches: int(env, 'WEFT_MAX_PENDING_BATCHES', 2000, 1),
    writeKey: env.WEFT_WRITE_KEY || undefined,
    secretKey: env.WEFT_SECRET_KEY || undefined,
    limits: {
      maxBodyBytes: int(env, 'WEFT_MAX_BODY_BYTES', DEFAULT_LIMITS.maxBodyBytes, 1024),
      maxBatchEvents: int(env, 'WEFT_MAX_BATCH_EVENTS', DEFAULT_LIMITS.maxBatchEvents, 1),
      maxProperties: DEFAULT_LIMITS.maxProperties,
      maxValueLength: DEFAULT_LIMITS.maxValueLength,
      maxNameLength: DEFAULT_LIMITS.maxNameLength,
      maxDepth: DEFAULT_LIMITS.maxDepth,
    },
    logLevel: env.WEFT_LOG_LEVEL || 'warn',
    kafkaBrokers: env.KAFKA_BROKERS || undefined,
    kafkaTopic: env.KAFKA_TOPIC || 'weft.events',
    kafkaDeadLetterTopic: env.KAFKA_DLQ_TOPIC || `${env.KAFKA_TOPIC || 'weft.events'}.dlq`,
    kafkaGroup: env.KAFKA_GROUP || 'weft-engine',
    kafkaMessageTimeoutMs: int(env, 'KAFKA_MESSAGE_TIMEOUT_MS', 10_000, 100),
    kafkaSessionTimeoutMs: int(env, 'KAFKA_SESSION_TIMEOUT_MS', 10_000, 6000),
    partitionDir: resolve(env.WEFT_PARTITION_DIR || join(env.WEFT_DATA_DIR || './data', 'partitions')),
    peers: (env.WEFT_PEERS ?? '')
      .split(',')
      .map((x) => x.trim().replace(/\/$/, ''))
      .filter((x) => x !== ''),
    clickhouseUrl: env.CLICKHOUSE_URL || undefined,
    clickhouseDatabase: env.CLICKHOUSE_DATABASE || 'weft',
  };
}
