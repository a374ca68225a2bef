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
