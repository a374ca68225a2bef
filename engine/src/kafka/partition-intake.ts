import type { MessagePort } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import { EventEncoder, EventRecord, RECORD_EVENTS } from '../bus/event-codec.js';
import { checkRecord } from '../bus/record-check.js';
import type { ClickHouse } from '../clickhouse/client.js';
import type { IdentityRow } from '../clickhouse/insert.js';
import { ClickHouseSink } from '../clickhouse/sink.js';
import { hashEventId, projectSeeds } from '../index/dedup-table.js';
import type { BusRecord } from '../workers/protocol.js';
import type { FeedToShard, ShardToFeed } from './feed-protocol.js';

/** Longest run of record applying before the thread serves its sockets and timers. */
const SLICE_MS = 5;

/** Rows waiting for ClickHouse beyond which the shard stops confirming records (the feed pauses). */
const MAX_BACKLOG = 200_000;

/** What the intake needs from its shard. */
export interface IntakeShard {
  partition: number;
  /** Offset the index snapshot covers: records below it are in the loaded index already. */
  indexFrom: number;
  apply(payload: Uint8Array): void;
  /** Called after each delivery with the offset just past it. */
  applied(end: number): void;
  /** Offset the latest snapshot covers. */
  snapshotOffset(): number;
  /** The index's whole person mapping (identities rows). */
  allPersons(): IdentityRow[];
  /** Mapping rows of the persons changed since the last call, if any (collected when ClickHouse is set). */
  takePersons(): IdentityRow[] | undefined;
}

const unpackr = new Unpackr({ useRecords: true });
const encoder = new EventEncoder();

function isStrings(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function controlProblem(payload: Uint8Array): string | undefined {
  try {
    const r = unpackr.unpack(payload.subarray(1)) as BusRecord;
    if (typeof r !== 'object' || r === null) return 'control record is not a map';
    if (typeof r.p !== 'string' || typeof r.id !== 'string') return 'control record lacks project or id';
    const ok =
      r.k === 'x'
        ? Number.isInteger(r.to)
        : r.k === 'a'
          ? isStrings(r.ids)
          : r.k === 'm' &&
            Array.isArray(r.ev) &&
            (r.ids === undefined || isStrings(r.ids)) &&
            (r.set === undefined || (typeof r.set === 'object' && r.set !== null));
    return ok ? undefined : `control record kind ${String(r.k)} is malformed`;
  } catch (err) {
    return `control record does not decode: ${(err as Error).message}`;
  }
}

/**
 * A shard's side of a Kafka partition: records arrive from the process's consumer over a
 * port with their offsets. Each is checked (unreadable records and unusable events go to
 * the dead-letter topic, the rest carry on), applied to the index unless the snapshot
 * already holds it, and handed to ClickHouse unless it is below the committed offset (then
 * it is there already), together with the index's mapping of the persons it changed.
 * Progress flows back so the consumer commits min(index snapshot, ClickHouse) offsets and
 * throttles itself.
 */
export class PartitionIntake {
  private sink: ClickHouseSink | undefined;
  private chFrom = 0;
  private lastRecordAt = 0;
  private applied: number;

  constructor(
    private readonly shard: IntakeShard,
    private readonly port: MessagePort,
    private readonly clickhouse: ClickHouse | undefined,
  ) {
    this.applied = shard.indexFrom;
    port.on('message', (msg: FeedToShard) => this.onMessage(msg));
  }

  /** Milliseconds since the last record arrived (the shard snapshots when idle). */
  get idleMs(): number {
    return Date.now() - this.lastRecordAt;
  }

  private onMessage(msg: FeedToShard): void {
    if (msg.type === 'start') {
      this.chFrom = msg.chFrom;
      if (this.clickhouse) {
        this.sink = new ClickHouseSink(this.clickhouse, msg.chFrom, () => this.report());
        // Records in [chFrom, indexFrom) reach ClickHouse without being applied again: the
        // persons they changed are in the loaded index, maybe not yet in ClickHouse.
        if (msg.chFrom < this.shard.indexFrom) this.sink.add(msg.chFrom, undefined, this.shard.allPersons());
      }
      return;
    }
    this.lastRecordAt = Date.now();
    this.queue.push(msg);
    if (this.queue.length === 1) setImmediate(this.drain);
  }

  private readonly queue: Array<Extract<FeedToShard, { type: 'records' }>> = [];

  /**
   * Applies queued deliveries in slices of a few milliseconds. A port's messages are
   * dispatched back to back while they keep coming, which would starve this thread's
   * sockets (the ClickHouse inserts) for seconds; between slices the loop serves them.
   */
  private readonly drain = (): void => {
    const until = performance.now() + SLICE_MS;
    while (this.queue.length > 0 && performance.now() < until) {
      const msg = this.queue.shift()!;
      for (let i = 0; i < msg.payloads.length; i++) this.take(msg.payloads[i]!, msg.offsets[i]!);
      this.shard.applied(msg.end);
      this.applied = msg.end;
      this.report();
    }
    if (this.queue.length > 0) setImmediate(this.drain);
  };

  private take(payload: Uint8Array, offset: number): void {
    const end = offset + 1;
    const check = checkRecord(payload);
    if (check.ok === false) {
      this.dead(offset, check.reason, payload);
      this.sink?.add(end, undefined);
      return;
    }
    if (payload[0] !== RECORD_EVENTS) {
      const problem = controlProblem(payload);
      if (problem) this.dead(offset, problem, payload);
      else if (offset >= this.shard.indexFrom) this.shard.apply(payload);
      // Moved history is in ClickHouse already, under the event ids it first came with; the
      // person it joined here is not.
      this.sink?.add(end, undefined, this.personsOf(offset));
      return;
    }
    let good = payload;
    if (check.ok === 'partial') {
      const all = new EventRecord(payload).toEvents();
      const reasons = new Map(check.bad.map((b) => [b.index, b.reason]));
      const rejected = check.bad.map((b) => ({ reason: b.reason, event: all[b.index] }));
      this.dead(offset, `${check.bad.length} of ${all.length} events are unusable`, JSON.stringify(rejected));
      const kept = all.filter((_, i) => !reasons.has(i));
      if (kept.length === 0) {
        this.sink?.add(end, undefined);
        return;
      }
      const project = kept[0]!.project;
      const seeds = projectSeeds(project);
      const hashes = new Uint32Array(kept.length * 2);
      for (let i = 0; i < kept.length; i++) hashEventId(seeds, kept[i]!.event_id, hashes, i * 2);
      good = encoder.encode(project, kept, hashes);
    }
    if (offset >= this.shard.indexFrom) this.shard.apply(good);
    this.sink?.add(end, offset >= this.chFrom ? new EventRecord(good) : undefined, this.personsOf(offset));
  }

  /** The persons the record at `offset` changed, unless ClickHouse has them (below chFrom). */
  private personsOf(offset: number): IdentityRow[] | undefined {
    if (!this.sink) return undefined;
    const rows = this.shard.takePersons();
    return offset >= this.chFrom ? rows : undefined;
  }

  private dead(offset: number, reason: string, payload: Uint8Array | string): void {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.send({ type: 'dead', offset, reason, payload: bytes });
  }

  /** Tells the consumer how far the index and ClickHouse are durable, and that records were taken. */
  report(): void {
    const backlog = this.sink?.backlog ?? 0;
    this.send({
      type: 'progress',
      applied: backlog > MAX_BACKLOG ? -1 : this.applied,
      index: this.shard.snapshotOffset(),
      ch: this.sink ? this.sink.durable : this.applied,
    });
  }

  private send(msg: ShardToFeed): void {
    this.port.postMessage(msg);
  }

  /** Flushes ClickHouse (bounded wait) and returns the final durable offsets. */
  async close(): Promise<{ ch: number }> {
    await this.sink?.close(10_000);
    const ch = this.sink ? this.sink.durable : this.applied;
    this.port.close();
    return { ch };
  }
}
