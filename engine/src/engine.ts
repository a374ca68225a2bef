import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { BatchResult, ProjectKeys, WeftConfig, WeftEvent } from '@weft/core';
import { type ErrorCode, WeftError } from '@weft/core';
import type { RawBatch } from '@weft/ingest';
import { checkLayout } from './data-dir.js';
import type { Link } from './identity/router.js';
import type { KafkaSettings } from './kafka/client-config.js';
import { KafkaBus } from './kafka/kafka-bus.js';
import { type FeedEvent, PartitionFeed } from './kafka/partition-feed.js';
import { decodePeer, encodePeer, PEER_CONTENT_TYPE, type PeerRequest } from './kafka/peer-wire.js';
import { AGGREGATE_OPS, type SegmentChange, type SegmentRequest } from './segments/protocol.js';
import type {
  IngestMessage,
  IngestReply,
  IngestRequest,
  IngestWorkerData,
  QueryKind,
  ShardClosed,
  ShardQuery,
  ShardReply,
  ShardRequest,
  ShardWorkerData,
} from './workers/protocol.js';
import { ANALYSIS_KINDS, moveKey } from './workers/protocol.js';
import { workerUrl } from './workers/worker-url.js';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void; worker?: Worker };

/** Query kinds that see every write acknowledged anywhere before they started. */
const ANALYSES: ReadonlySet<QueryKind> = new Set(ANALYSIS_KINDS);

/** Analyses, and segment reads over every user (estimate, size, members, portrait, …). */
function readsAllUsers(kind: QueryKind, args: unknown): boolean {
  return ANALYSES.has(kind) || (kind === 'segments' && AGGREGATE_OPS.has((args as SegmentRequest).op));
}

/** Longest wait of a query for history moves in flight. */
const MOVE_WAIT_MS = 5000;

/** How long a query waits for every partition to have an owner (a rebalance in progress). */
const OWNERLESS_WAIT_MS = 20_000;

/** One process's answers for the partitions it owns (the peer fan-out of Kafka mode). */
export interface ShardAnswers<T> {
  partitions: number[];
  values: T[];
}

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
  /** Kafka mode: receives the identity links this process's identifies made (the links topic). */
  onLinks: ((links: Link[]) => void) | undefined;
  private closed = false;

  /** Kafka mode: called when this process starts owning a partition, before queries reach it. */
  private onShardStart: ((partition: number) => Promise<void>) | undefined;
  /** Kafka mode: partitions whose shard runs but is still being given the definitions. */
  private readonly starting = new Set<number>();
  /**
   * Kafka mode: the definitions-topic offset this process has applied. Peers answer a
   * fan-out only once they applied as much, so a definition this process saw counts there.
   */
  definitionsApplied: () => number = () => 0;
  /** Kafka mode: the partitions' shards are started and stopped here as the group rebalances. */
  private rebalancing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly config: WeftConfig,
    /** Indexed by shard (= partition); undefined where another process owns it (Kafka). */
    private readonly shards: Array<Worker | undefined>,
    private readonly ingest: Worker,
    /** Kafka mode: the producer side; undefined on the embedded log. */
    private readonly kafka: KafkaBus | undefined,
    private readonly peerKey: string,
  ) {
    this.ackedEnds = new Array(shards.length).fill(0);
    ingest.on('message', (msg: IngestReply) => this.onIngestReply(msg));
    ingest.on('error', (err) => this.fatal(err));
    ingest.on('exit', (code) => {
      if (!this.closed) this.fatal(new Error(`ingest worker exited with code ${code}`));
    });
    shards.forEach((w, shard) => {
      if (w) this.watchShard(shard, w);
    });
  }

  private watchShard(shard: number, w: Worker): void {
    w.on('message', (msg: ShardReply) => this.onShardReply(shard, msg));
    w.on('error', (err) => this.fatal(err));
    w.on('exit', (code) => {
      if (!this.closed && this.shards[shard] === w)
        this.fatal(new Error(`shard ${shard} exited with code ${code}`));
    });
  }

  /** `onShardStart` (Kafka mode) gives a partition's shard the definitions before queries reach it. */
  static async start(
    config: WeftConfig,
    keys: ProjectKeys[],
    onShardStart?: (partition: number) => Promise<void>,
  ): Promise<Engine> {
    return config.kafkaBrokers
      ? Engine.startKafka(config, keys, config.kafkaBrokers, onShardStart)
      : Engine.startEmbedded(config, keys);
  }

  private static async startEmbedded(config: WeftConfig, keys: ProjectKeys[]): Promise<Engine> {
    checkLayout(config.dataDir, config.shards);
    const shardWorkers: Worker[] = [];
    const ingestPorts = [];
    const readies: Array<Promise<number>> = [];
    const releases: Array<() => ShardReply[]> = [];
    for (let shard = 0; shard < config.shards; shard++) {
      const channel = new MessageChannel();
      const { worker, ready, release } = spawnShard({
        shard,
        dataDir: config.dataDir,
        dir: join(config.dataDir, 'shards', `shard-${shard}`),
        source: 'log',
        snapshotIntervalMs: config.snapshotIntervalMs,
        ingestPort: channel.port1,
      });
      shardWorkers.push(worker);
      ingestPorts.push(channel.port2);
      readies.push(ready);
      releases.push(release);
    }
    const validEnds = await Promise.all(readies);
    const ingest = await spawnIngest(config, keys, { validEnds, shardPorts: ingestPorts, relay: false });
    for (const w of shardWorkers) w.removeAllListeners('error').removeAllListeners('exit');
    const engine = new Engine(config, shardWorkers, ingest, undefined, keys[0]?.secretKey ?? '');
    for (let s = 0; s < validEnds.length; s++) engine.ackedEnds[s] = validEnds[s]!;
    // Evictions replayed from the log asked for their moves before the ingest worker was up;
    // queries wait for those moves as for live ones.
    for (let s = 0; s < releases.length; s++) {
      for (const msg of releases[s]!()) {
        if (msg.type === 'moved') engine.movePending(moveKey(msg.project, msg.distinctId));
        engine.onShardReply(s, msg);
      }
    }
    return engine;
  }

  /**
   * Kafka mode: the ingest worker produces to the topic and is this process's member of the
   * consumer group; shards start as partitions are assigned to it, loading their snapshot
   * from the partition directory, and stop (flushing ClickHouse, snapshotting) when revoked.
   */
  private static async startKafka(
    config: WeftConfig,
    keys: ProjectKeys[],
    brokers: string,
    onShardStart: ((partition: number) => Promise<void>) | undefined,
  ): Promise<Engine> {
    const settings: KafkaSettings = { ...config, brokers };
    const bus = await KafkaBus.connect(settings);
    const ingest = await spawnIngest(config, keys, { validEnds: [], shardPorts: [], relay: true });
    const engine = new Engine(
      config,
      new Array(config.shards).fill(undefined),
      ingest,
      bus,
      keys[0]?.secretKey ?? '',
    );
    engine.onShardStart = onShardStart;
    const feed = new PartitionFeed(settings, bus, (event) => engine.onFeedEvent(event));
    engine.feed = feed;
    await feed.start();
    return engine;
  }

  private feed: PartitionFeed | undefined;

  private onFeedEvent(event: FeedEvent): void {
    // Rebalances run one after another: a revoke waits for the assign before it to finish.
    const step =
      event.type === 'assign'
        ? () => this.assignShards(event.partitions)
        : () => this.revokeShards(event.partitions);
    this.rebalancing = this.rebalancing.then(step).catch((err: Error) => this.fatal(err));
  }

  /** Partitions whose shard runs in this process. */
  get ownedPartitions(): number[] {
    const out: number[] = [];
    this.shards.forEach((w, p) => {
      if (w) out.push(p);
    });
    return out;
  }

  private async assignShards(partitions: number[]): Promise<void> {
    const ch = this.config.clickhouseUrl;
    await Promise.all(
      partitions.map(async (partition) => {
        const channel = new MessageChannel();
        const { worker, ready, release } = spawnShard({
          shard: partition,
          dataDir: this.config.dataDir,
          dir: join(this.config.partitionDir, `partition-${partition}`),
          source: 'kafka',
          clickhouse: ch ? { url: ch, database: this.config.clickhouseDatabase } : undefined,
          snapshotIntervalMs: this.config.snapshotIntervalMs,
          ingestPort: channel.port1,
        });
        const indexFrom = await ready;
        worker.removeAllListeners('error').removeAllListeners('exit');
        this.watchShard(partition, worker);
        for (const msg of release()) this.onShardReply(partition, msg);
        // Read-your-writes across processes: answer only after catching up with the partition.
        const high = await this.feed!.highWatermark(partition);
        if (high > this.ackedEnds[partition]!) this.ackedEnds[partition] = high;
        this.starting.add(partition);
        this.shards[partition] = worker;
        this.feed!.attach(partition, channel.port2, indexFrom);
        // Segment definitions: their first evaluation covers what the shard catches up on.
        // Queries leave the shard out (and wait for it) until it has them.
        await this.onShardStart?.(partition);
        this.starting.delete(partition);
      }),
    );
  }

  private async revokeShards(partitions: number[]): Promise<void> {
    await Promise.all(
      partitions.map(async (partition) => {
        const worker = this.shards[partition];
        if (!worker) return;
        this.shards[partition] = undefined;
        const closed = (await this.call(worker, (id) => ({ type: 'close', id }))) as ShardClosed;
        this.feed!.detach(partition, closed.index, closed.ch);
        this.abandon(worker);
        await worker.terminate();
      }),
    );
  }

  /** Calls still waiting on a stopped shard fail; fan-out asks the partition's new owner. */
  private abandon(worker: Worker): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new Error('shard stopped'));
    }
  }

  get shardCount(): number {
    return this.shards.length;
  }

  private fatal(err: Error): void {
    // A worker only dies on a bug; the log and snapshots make a restart lose nothing.
    console.error('weft: worker failed, exiting for a clean restart', err);
    process.exit(70);
  }

  private call<R extends ShardRequest>(
    worker: Worker,
    build: (id: number) => R,
    post: (msg: R) => void = (msg) => worker.postMessage(msg),
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      post(build(id));
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
    if (msg.links) this.onLinks?.(msg.links);
    // Counted before any client hears of its batch: a query then waits for these moves. On
    // Kafka only for source partitions run here: a peer's shard reports its move to the peer.
    if (msg.evicted) {
      for (const { key, from } of msg.evicted)
        if (!this.kafka || this.ownedPartitions.includes(from)) this.movePending(key);
    }
    if (this.kafka && msg.records && msg.records.payloads.length > 0) {
      this.produce({ ...msg, evicted: undefined }, msg.records, this.kafka);
      return;
    }
    for (let p = 0; p < msg.ends.length; p++)
      if (msg.ends[p]! > this.ackedEnds[p]!) this.ackedEnds[p] = msg.ends[p]!;
    for (const o of msg.outcomes) {
      if (o.ok) this.settle(o.id, true, o.result);
      else this.settle(o.id, false, new WeftError(o.code as ErrorCode, o.message, o.details, o.retryAfter));
    }
  }

  /** Kafka mode: the outcomes count once the broker has every record of their message. */
  private produce(
    msg: Extract<IngestReply, { type: 'done' }>,
    records: { partitions: number[]; payloads: Uint8Array[] },
    bus: KafkaBus,
  ): void {
    let committed: Promise<void> | undefined;
    try {
      for (let i = 0; i < records.payloads.length; i++)
        bus.append(records.partitions[i]!, records.payloads[i]!);
      committed = bus.commit();
    } catch (err) {
      committed = Promise.reject(err);
    }
    (committed ?? Promise.resolve()).then(
      () =>
        this.onIngestReply({
          type: 'done',
          outcomes: msg.outcomes,
          ends: this.shards.map((_, p) => bus.endOffset(p)),
        }),
      (err: Error) => {
        const e = err instanceof WeftError ? err : new WeftError('overloaded', err.message, undefined, 2);
        for (const o of msg.outcomes) this.settle(o.id, false, e);
      },
    );
  }

  private onShardReply(shard: number, msg: ShardReply): void {
    switch (msg.type) {
      case 'ready':
        return;
      case 'snapshotted':
        // The shard no longer needs its partition below the snapshot: let the log owner free it.
        // (On Kafka the shard reports its snapshot to the consumer, which commits.)
        if (!this.closed && !this.kafka) {
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
      case 'answers':
        for (const a of msg.answers) this.onShardReply(shard, a);
        return;
      case 'segment-changes':
        this.onSegmentChanges?.(msg.changes);
        return;
      case 'moved': {
        // Append the evicted history to the target partition, then let the source shard
        // snapshot past its eviction.
        const { project, distinctId, ids, to, events, profile, set } = msg;
        this.ingestCall((id) => ({
          type: 'move',
          id,
          project,
          distinctId,
          ids,
          to,
          events,
          profile,
          set,
        })).then(
          () => {
            this.shards[shard]?.postMessage({ type: 'moved-ack', count: 1 } satisfies ShardRequest);
            this.moveLanded(moveKey(project, distinctId));
          },
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

  /** Kafka mode: links other processes made, read from the links topic up to offset `end`. */
  async learnLinks(links: Link[], end: number): Promise<void> {
    await this.ingestCall((id) => ({ type: 'learn', id, links, end }));
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

  /** Evicted ids whose history has not yet been appended to its new shard, with waiters. */
  private readonly pendingMoves = new Map<string, number>();
  private movesWaiters: Array<() => void> = [];

  private movePending(key: string): void {
    this.pendingMoves.set(key, (this.pendingMoves.get(key) ?? 0) + 1);
  }

  private moveLanded(key: string): void {
    const n = this.pendingMoves.get(key);
    // A move replayed by a shard taking over a Kafka partition was never counted here.
    if (n === undefined) return;
    if (n > 1) this.pendingMoves.set(key, n - 1);
    else this.pendingMoves.delete(key);
    if (this.pendingMoves.size === 0) for (const w of this.movesWaiters.splice(0)) w();
  }

  /**
   * Read-your-writes across an identify that moved history between shards: wait, briefly,
   * until acknowledged evictions from shards running here have landed.
   */
  private movesSettled(): Promise<void> | undefined {
    if (this.pendingMoves.size === 0) return undefined;
    const waitedFor = [...this.pendingMoves.keys()];
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // A move this late runs elsewhere (a rebalance gave its partition to a peer): later
        // queries do not wait for it again.
        for (const key of waitedFor) this.pendingMoves.delete(key);
        if (this.pendingMoves.size === 0) for (const w of this.movesWaiters.splice(0)) w();
        resolve();
      }, MOVE_WAIT_MS);
      this.movesWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Runs a query on every shard (or one), after each has applied all acknowledged writes.
   * On Kafka, the partitions other processes own are asked of those processes (WEFT_PEERS),
   * and the answer waits until every partition has answered exactly once.
   */
  async queryShards<T>(kind: QueryKind, args: unknown, only?: number): Promise<T[]> {
    const moves = this.movesSettled();
    if (moves) await moves;
    if (!this.kafka) {
      const targets = only === undefined ? this.shards.map((_, i) => i) : [only];
      return Promise.all(targets.map((s) => this.askShard<T>(s, kind, args, this.ackedEnds[s]!)));
    }
    const wanted = only === undefined ? this.shards.map((_, i) => i) : [only];
    const until = Date.now() + OWNERLESS_WAIT_MS;
    for (;;) {
      const got = new Map<number, T>();
      const answers = await Promise.all([
        this.localAnswers<T>(kind, args, only, this.ackedEnds),
        ...this.config.peers.map((peer) => this.peerAnswers<T>(peer, kind, args, only)),
      ]);
      for (const a of answers) {
        for (let i = 0; i < a.partitions.length; i++) got.set(a.partitions[i]!, a.values[i]!);
      }
      const missing = wanted.filter((p) => !got.has(p));
      if (missing.length === 0) return wanted.map((p) => got.get(p)!);
      if (Date.now() > until || this.closed) {
        throw new WeftError(
          'overloaded',
          `partitions ${missing.join(', ')} have no engine answering (rebalance in progress, or a process missing from WEFT_PEERS)`,
          undefined,
          2,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private askShard<T>(shard: number, kind: QueryKind, args: unknown, minOffset: number): Promise<T> {
    const worker = this.shards[shard];
    // On Kafka a rebalance may have stopped the partition's shard here: its new owner answers.
    if (!worker) return Promise.reject(new Error('shard stopped'));
    return this.call(
      worker,
      (id): ShardQuery => ({ type: 'query', id, kind, args, minOffset }),
      (query) => this.queueQuery(worker, query),
    ) as Promise<T>;
  }

  private queueQuery(worker: Worker, query: ShardQuery): void {
    let queued = this.queuedQueries.get(worker);
    if (!queued) {
      queued = [];
      this.queuedQueries.set(worker, queued);
      setImmediate(() => this.flushQueries(worker));
    }
    queued.push(query);
  }

  /** Queries of one event-loop turn per shard, sent in one message (decide calls come thousands a second). */
  private readonly queuedQueries = new Map<Worker, ShardQuery[]>();

  private flushQueries(worker: Worker): void {
    const queries = this.queuedQueries.get(worker)!;
    this.queuedQueries.delete(worker);
    worker.postMessage(
      (queries.length === 1 ? queries[0]! : { type: 'queries', queries }) satisfies ShardRequest,
    );
  }

  /**
   * Answers of the shards this process owns (of `only`, when given), each after applying
   * everything acknowledged to it here or, for a peer's request, there (`minOffsets`).
   */
  async localAnswers<T>(
    kind: QueryKind,
    args: unknown,
    only: number | undefined,
    minOffsets: readonly number[],
  ): Promise<ShardAnswers<T>> {
    const mine = this.ownedPartitions.filter(
      (p) => (only === undefined || p === only) && !this.starting.has(p),
    );
    // Other processes acknowledge writes to these partitions too: a read over every user
    // waits for the partitions' end offsets as of now. (Per-user reads such as decide keep to
    // local acks.)
    const ends =
      this.feed && this.config.peers.length > 0 && readsAllUsers(kind, args)
        ? await Promise.all(mine.map((p) => this.feed!.highWatermark(p).catch(() => 0)))
        : undefined;
    const settled = await Promise.allSettled(
      mine.map((p, i) =>
        this.askShard<T>(p, kind, args, Math.max(this.ackedEnds[p]!, minOffsets[p] ?? 0, ends?.[i] ?? 0)),
      ),
    );
    const out: ShardAnswers<T> = { partitions: [], values: [] };
    settled.forEach((r, i) => {
      // A shard stopped by a rebalance mid-query: its new owner answers on the next round.
      if (r.status === 'fulfilled') {
        out.partitions.push(mine[i]!);
        out.values.push(r.value);
      } else if ((r.reason as Error).message !== 'shard stopped') throw r.reason;
    });
    return out;
  }

  /**
   * Asks the shards running in this process (one, or all) and no peer: on Kafka each process
   * applies definition changes to its own shards. Asked all, a shard still starting takes the
   * request in order but is not waited for (it may replay its partition for a while, and
   * queries wait for it anyway). A shard stopped by a rebalance meanwhile is left out; its
   * next owner gets the definitions when it starts.
   */
  async askOwnShards<T>(kind: QueryKind, args: unknown, only?: number): Promise<T[]> {
    const mine = this.ownedPartitions.filter((p) => only === undefined || p === only);
    const calls = mine.map((p) => this.askShard<T>(p, kind, args, this.ackedEnds[p]!));
    const awaited = calls.filter((call, i) => {
      if (only !== undefined || !this.starting.has(mine[i]!)) return true;
      call.catch((err: Error) => {
        if (err.message !== 'shard stopped') console.error(`weft: shard ${mine[i]} refused ${kind}`, err);
      });
      return false;
    });
    const settled = await Promise.allSettled(awaited);
    const out: T[] = [];
    for (const r of settled) {
      if (r.status === 'fulfilled') out.push(r.value);
      else if ((r.reason as Error).message !== 'shard stopped') throw r.reason;
    }
    return out;
  }

  private async peerAnswers<T>(
    peer: string,
    kind: QueryKind,
    args: unknown,
    only: number | undefined,
  ): Promise<ShardAnswers<T>> {
    try {
      const request: PeerRequest = {
        kind,
        args,
        only,
        minOffsets: this.ackedEnds,
        definitions: this.definitionsApplied(),
      };
      const res = await fetch(`${peer}/v1/internal/shards`, {
        method: 'POST',
        headers: { 'content-type': PEER_CONTENT_TYPE, authorization: `Bearer ${this.peerKey}` },
        body: encodePeer(request),
        signal: AbortSignal.timeout(60_000),
      });
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      const answers = decodePeer<ShardAnswers<T>>(new Uint8Array(await res.arrayBuffer()));
      this.peerDown.delete(peer);
      return answers;
    } catch (err) {
      // A peer that is down owns nothing until the group moves its partitions: ask again.
      // Logged once per outage, not once per query.
      if (!this.peerDown.has(peer))
        console.error(`weft: peer ${peer} did not answer: ${(err as Error).message}`);
      this.peerDown.add(peer);
      return { partitions: [], values: [] };
    }
  }

  private readonly peerDown = new Set<string>();

  async snapshot(): Promise<void> {
    await Promise.all(
      this.ownedPartitions.map((p) => this.call(this.shards[p]!, (id) => ({ type: 'snapshot', id }))),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.rebalancing;
    const owned = this.ownedPartitions;
    if (this.kafka) await this.revokeShards(owned);
    await this.ingestCall((id) => ({ type: 'close', id }));
    await this.feed?.close();
    await this.kafka?.close();
    if (!this.kafka)
      await Promise.all(owned.map((p) => this.call(this.shards[p]!, (id) => ({ type: 'close', id }))));
    await Promise.all([this.ingest.terminate(), ...owned.map((p) => this.shards[p]?.terminate())]);
  }
}

/**
 * Starts a shard worker. Until `release`, its messages other than `ready` are held (a replayed
 * eviction sends its move while the shard loads, before the engine listens); `release`
 * returns them for the engine to handle.
 */
function spawnShard(wd: ShardWorkerData): {
  worker: Worker;
  ready: Promise<number>;
  release: () => ShardReply[];
} {
  const worker = new Worker(workerUrl(import.meta.url, 'workers/shard-worker'), {
    workerData: wd,
    transferList: [wd.ingestPort],
  });
  const held: ShardReply[] = [];
  let started: (validEnd: number) => void;
  const ready = new Promise<number>((resolve, reject) => {
    started = resolve;
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`shard ${wd.shard} exited during start (${code})`)));
  });
  const onMessage = (msg: ShardReply) => {
    if (msg.type === 'ready') started(msg.validEnd);
    else held.push(msg);
  };
  worker.on('message', onMessage);
  const release = () => {
    worker.off('message', onMessage);
    return held.splice(0);
  };
  return { worker, ready, release };
}

async function spawnIngest(
  config: WeftConfig,
  keys: ProjectKeys[],
  mode: Pick<IngestWorkerData, 'validEnds' | 'shardPorts' | 'relay'>,
): Promise<Worker> {
  const iwd: IngestWorkerData = {
    dataDir: config.dataDir,
    shards: config.shards,
    fsync: config.fsync,
    fsyncIntervalMs: config.fsyncIntervalMs,
    logSegmentBytes: config.logSegmentBytes,
    keys,
    limits: config.limits,
    ...mode,
  };
  const ingest = new Worker(workerUrl(import.meta.url, 'workers/ingest-worker'), {
    workerData: iwd,
    transferList: mode.shardPorts,
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (msg: IngestReply) => {
      if (msg.type !== 'ready') return;
      ingest.off('message', onMessage);
      resolve();
    };
    ingest.on('message', onMessage);
    ingest.once('error', reject);
    ingest.once('exit', (code) => reject(new Error(`ingest worker exited during start (${code})`)));
  });
  ingest.removeAllListeners('error').removeAllListeners('exit');
  return ingest;
}
