/** Messages between the benchmark runner and its load-generating child process. */

export interface GenerateCommand {
  type: 'generate';
  seed: number;
  users: number;
  now: number;
  bodies: number;
  batchSize: number;
}

export interface RunCommand {
  type: 'run';
  label: string;
  url: string;
  writeKey: string;
  /** When given, the client waits for the index to count `indexBase` + the events accepted in this run. */
  secretKey?: string;
  indexBase?: number;
  /** Body indices [from, to). */
  from: number;
  to: number;
  concurrency: number;
  pipelining: number;
}

export type ClientCommand = GenerateCommand | RunCommand | { type: 'exit' };

export interface Generated {
  type: 'generated';
  bodies: number;
  events: number;
  bytes: number;
  ms: number;
}

export interface RunResult {
  type: 'result';
  label: string;
  requests: number;
  eventsSent: number;
  eventsAccepted: number;
  eventsRejected: number;
  /** Answers other than 200, by status code (429/503 answers are retried, and counted here too). */
  non200: Record<string, number>;
  non200Count: number;
  retries: number;
  /** First request sent → last answer received. */
  httpMs: number;
  /** First request sent → index total reached the expected count (only when secretKey was given). */
  e2eMs?: number;
  indexTotal?: number;
  indexExpected?: number;
  latencyMs: { p50: number; p99: number; max: number };
  clientCpuMs: number;
}

export interface ClientError {
  type: 'error';
  message: string;
}

export type ClientMessage = Generated | RunResult | ClientError;

/** Messages between the runner and the consumer-lag sampler (lag.ts), used with `--kafka`. */
export type LagCommand =
  | { type: 'start'; brokers: string; topic: string; group: string; partitions: number; intervalMs: number }
  | { type: 'exit' };

export interface LagPartition {
  partition: number;
  /** High watermark: offset of the next record to be written. */
  high: number;
  /** The group's committed offset (the next record it will read); 0 before the first commit. */
  committed: number;
}

export interface LagSample {
  type: 'sample';
  /** Date.now() when the sample's first request was sent. */
  startedAt: number;
  /** How long the sample took (watermarks + committed offsets). */
  ms: number;
  partitions: LagPartition[];
  /** Σ over partitions of max(0, high − committed), in Kafka messages (records). */
  lag: number;
  /** Σ of the high watermarks. */
  high: number;
}

export type LagMessage =
  | { type: 'ready' }
  | LagSample
  | { type: 'sample-error'; startedAt: number; message: string }
  | { type: 'error'; message: string };
