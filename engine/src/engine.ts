import { MessageChannel, Worker } from 'node:worker_threads';
import type { BatchResult, ProjectKeys, WeftConfig, WeftEvent } from '@weft/core';
import { type ErrorCode, WeftError } from '@weft/core';
import type { RawBatch } from '@weft/ingest';
import { checkLayout } from './data-dir.js';
import type { SegmentChange } from './segments/protocol.js';
import type {
  IngestMessage,
  IngestReply,
  IngestRequest,
  IngestWorkerData,
  QueryKind,
  ShardReply,
  ShardRequest,
  ShardWorkerData,
} from './workers/protocol.js';
import { workerUrl } from './workers/worker-url.js';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** Counters the metrics endpoint reads. */
export interface EngineStats {
  batches: number;
  eventsAccepted: number;
  eventsRejected: number;
  pendingBatches: number;
}

/**
 * The main-thread face of the embedded engine: starts the shard workers and the ingest
 * worker, forwards batches, and fans queries out to every shard. It tracks the offset each
 * partition reached in acknowledged writes, so a query waits until its shard has applied
 * them (read-your-writes).
 */
export class Engine {
  readonly stats: EngineStats = { batches: 0, eventsAccepted: 0, eventsRejected: 0, pendingBatches: 0 };
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly ackedEnds: number[];
  /** Receives segment entry/exit changes from the shards (the change feed). */
  onSegmentChanges: ((changes: SegmentChange[]) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly config: WeftConfig,
    private readonly shards: Worker[],
    private readonly ingest: Worker,
  ) {
    this.ackedEnds = new Array(shards.length).fill(0);
    ingest.on('message', (msg: IngestReply) => this.onIngestReply(msg));
    shards.forEach((w, shard) => {
      w.on('message', (msg: ShardReply) => this.onShardReply(shard, msg));
    });
    for (const w of [ingest, ...shards]) {
      w.on('error', (err) => this.fatal(err));
      w.on('exit', (code) => {
        if (!this.closed) this.fatal(new Error(`worker exited with code ${code}`));
      });
    }
  }

  static async start(config: WeftConfig, keys: ProjectKeys[]): Promise<Engine> {
    checkLayout(config.dataDir, config.shards);
    const shardWorkers: Worker[] = [];
    const ingestPorts = [];
    const readies: Array<Promise<number>> = [];
    for (let shard = 0; shard < config.shards; shard++) {
      const channel = new MessageChannel();
      const wd: ShardWorkerData = {
        shard,
        dataDir: config.dataDir,
        snapshotIntervalMs: config.snapshotIntervalMs,
        ingestPort: channel.port1,
      };
      const worker = new Worker(workerUrl(import.meta.url, 'workers/shard-worker'), {
        workerData: wd,
        transferList: [channel.port1],
      });
      shardWorkers.push(worker);
      ingestPorts.push(channel.port2);
      readies.push(
        new Promise((resolve, reject) => {
          const onMessage = (msg: ShardReply) => {
            if (msg.type !== 'ready') return;
            worker.off('message', onMessage);
            resolve(msg.validEnd);
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`shard ${shard} exited during start (${code})`)));
        }),
      );
    }
    const validEnds = await Promise.all(readies);
    const iwd: IngestWorkerData = {
      dataDir: config.dataDir,
      shards: config.shards,
      fsync: config.fsync,
      fsyncIntervalMs: config.fsyncIntervalMs,
      logSegmentBytes: config.logSegmentBytes,
      validEnds,
      keys,
      limits: config.limits,
      shardPorts: ingestPorts,
    };
    const ingest = new Worker(workerUrl(import.meta.url, 'workers/ingest-worker'), {
      workerData: iwd,
      transferList: ingestPorts,
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: IngestReply) => {
        if (msg.type !== 'ready') return;
        ingest.off('message', onMessage);
        resolve();
      };
      ingest.on('message', onMessage);
      ingest.once('error', reject);
    });
    for (const w of shardWorkers) w.removeAllListeners('error').removeAllListeners('exit');
    ingest.removeAllListeners('error').removeAllListeners('exit');
    const engine = new Engine(config, shardWorkers, ingest);
    for (let s = 0; s < validEnds.length; s++) engine.ackedEnds[s] = validEnds[s]!;
    return engine;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  private fatal(err: Error): void {
    // A worker only dies on a bug; the log and snapshots make a restart lose nothing.
    console.error('weft: worker failed, exiting for a clean restart', err);
    process.exit(70);
  }

  private call(worker: Worker, build: (id: number) => ShardRequest): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(build(id));
    });
  }

  /**
   * Queues a request for the ingest worker. Requests of one event-loop turn travel in one
   * message: a message per HTTP request would cost more than parsing its events.
   */
  private ingestCall(build: (id: number) => IngestRequest, transfer?: ArrayBuffer): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.outgoing.push(build(id));
      if (transfer) this.outgoingTransfer.push(transfer);
      if (this.outgoing.length === 1) setImmediate(this.flushIngest);
    });
  }

  private readonly outgoing: IngestRequest[] = [];
  private readonly outgoingTransfer: ArrayBuffer[] = [];
  private readonly flushIngest = (): void => {
    const msg: IngestMessage = { type: 'requests', requests: this.outgoing.splice(0) };
    this.ingest.postMessage(msg, this.outgoingTransfer.splice(0));
  };

  private settle(id: number, ok: boolean, value: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (ok) p.resolve(value);
    else p.reject(value as Error);
  }

  private onIngestReply(msg: IngestReply): void {
    if (msg.type === 'ready') return;
    for (let p = 0; p < msg.ends.length; p++)
      if (msg.ends[p]! > this.ackedEnds[p]!) this.ackedEnds[p] = msg.ends[p]!;
    for (const o of msg.outcomes) {
      if (o.ok) this.settle(o.id, true, o.result);
      else this.settle(o.id, false, new WeftError(o.code as ErrorCode, o.message, o.details, o.retryAfter));
    }
  }

  private onShardReply(shard: number, msg: ShardReply): void {
    switch (msg.type) {
      case 'ready':
        return;
      case 'snapshotted':
        // The shard no longer needs its partition below the snapshot: let the log owner free it.
        if (!this.closed) {
          this.ingestCall((id) => ({ type: 'release', id, partition: shard, offset: msg.offset })).catch(
            (err: Error) => console.error('weft: could not release log segments', err),
          );
        }
        return;
      case 'result':
        this.settle(msg.id, true, msg.value);
        return;
      case 'error':
        this.settle(msg.id, false, new Error(msg.message));
        return;
      case 'segment-changes':
        this.onSegmentChanges?.(msg.changes);
        return;
      case 'moved': {
        // Append the evicted history to the target partition, then let the source shard
        // snapshot past its eviction.
        const { project, distinctId, to, events, profile } = msg;
        this.ingestCall((id) => ({ type: 'move', id, project, distinctId, to, events, profile })).then(
          () => this.shards[shard]!.postMessage({ type: 'moved-ack', count: 1 } satisfies ShardRequest),
          (err: Error) => this.fatal(err),
        );
        return;
      }
    }
  }

  private guardLoad(): void {
    if (this.closed) throw new WeftError('overloaded', 'server is shutting down', undefined, 1);
    if (this.stats.pendingBatches >= this.config.maxPendingBatches) {
      throw new WeftError('overloaded', 'ingest queue is full; retry shortly', undefined, 1);
    }
  }

  async submitBatch(raw: RawBatch): Promise<BatchResult> {
    this.guardLoad();
    this.stats.pendingBatches++;
    try {
      // Hand the body over without a second copy when it owns its whole buffer (large bodies do);
      // a slice of fastify's pooled buffer is copied to exact size first.
      const own = raw.bytes.byteOffset === 0 && raw.bytes.byteLength === raw.bytes.buffer.byteLength;
      const bytes = own ? raw.bytes : new Uint8Array(raw.bytes);
      const message = { ...raw, bytes };
      const result = (await this.ingestCall(
        (id) => ({ type: 'batch', id, raw: message }),
        bytes.buffer as ArrayBuffer,
      )) as BatchResult;
      this.stats.batches++;
      this.stats.eventsAccepted += result.accepted;
      this.stats.eventsRejected += result.rejected.length;
      return result;
    } finally {
      this.stats.pendingBatches--;
    }
  }

  async publishEvents(project: string, events: WeftEvent[]): Promise<void> {
    this.guardLoad();
    this.stats.pendingBatches++;
    try {
      await this.ingestCall((id) => ({ type: 'publish', id, project, events }));
      this.stats.eventsAccepted += events.length;
    } finally {
      this.stats.pendingBatches--;
    }
  }

  /** Runs a query on every shard (or one), after each has applied all acknowledged writes. */
  queryShards<T>(kind: QueryKind, args: unknown, only?: number): Promise<T[]> {
    const targets = only === undefined ? this.shards.map((_, i) => i) : [only];
    return Promise.all(
      targets.map(
        (s) =>
          this.call(this.shards[s]!, (id) => ({
            type: 'query',
            id,
            kind,
            args,
            minOffset: this.ackedEnds[s]!,
          })) as Promise<T>,
      ),
    );
  }

  async snapshot(): Promise<void> {
    await Promise.all(this.shards.map((w) => this.call(w, (id) => ({ type: 'snapshot', id }))));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ingestCall((id) => ({ type: 'close', id }));
    await Promise.all(this.shards.map((w) => this.call(w, (id) => ({ type: 'close', id }))));
    await Promise.all([this.ingest.terminate(), ...this.shards.map((w) => w.terminate())]);
  }
}
