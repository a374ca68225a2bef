import type { MessagePort } from 'node:worker_threads';
import Kafka, { type Assignment, type KafkaConsumer, type LibrdKafkaError, type Message } from 'node-rdkafka';
import { consumerConfig, type KafkaSettings } from './client-config.js';
import type { FeedToShard, ShardToFeed } from './feed-protocol.js';
import type { KafkaBus } from './kafka-bus.js';

const ERR_ASSIGN = -175;
const ERR_REVOKE = -174;
/** Messages fetched per poll. */
const FETCH = 1000;
/** Kafka messages sent to a shard and not yet taken, beyond which the feed pauses. */
const MAX_UNTAKEN = 256;

/** What the feed tells the main thread: it starts shards for assigned partitions and stops revoked ones. */
export type FeedEvent = { type: 'assign'; partitions: number[] } | { type: 'revoke'; partitions: number[] };

interface Attached {
  port: MessagePort;
  /** Offset just past the last message sent to the shard. */
  sentEnd: number;
  /** Offset just past the last message the shard took. */
  takenEnd: number;
  committed: number;
  revoking: boolean;
}

/**
 * The process's member of the engine consumer group. Partitions assigned to it are fed to
 * shard workers (started by the main thread, each loading its snapshot); offsets are
 * committed at min(index snapshot, ClickHouse) so a new owner misses nothing; dead
 * records go to the dead-letter topic. Lives in the ingest worker because node-rdkafka
 * loads in one thread per process.
 */
export class PartitionFeed {
  private readonly consumer: KafkaConsumer;
  private readonly attached = new Map<number, Attached>();
  private pendingAttach = new Map<number, { port: MessagePort; indexFrom: number }>();
  private assigning: number[] = [];
  private closed = false;

  constructor(
    private readonly k: KafkaSettings,
    private readonly bus: KafkaBus,
    private readonly notify: (event: FeedEvent) => void,
  ) {
    this.consumer = new Kafka.KafkaConsumer(
      {
        ...consumerConfig(k),
        rebalance_cb: (err: LibrdKafkaError, assignment: Assignment[]) => this.onRebalance(err, assignment),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.setDefaultConsumeTimeout(50);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.consumer.connect({ timeout: 15_000 }, (err) => {
        if (err)
          return reject(new Error(`Kafka consumer could not connect to ${this.k.brokers}: ${err.message}`));
        this.consumer.subscribe([this.k.kafkaTopic]);
        this.poll();
        resolve();
      });
    });
  }

  private onRebalance(err: LibrdKafkaError, assignment: Assignment[]): void {
    const partitions = assignment.map((a) => a.partition).sort((a, b) => a - b);
    if (err.code === ERR_ASSIGN) {
      if (partitions.length === 0) {
        this.consumer.assign([]);
        return;
      }
      this.assigning = partitions;
      this.notify({ type: 'assign', partitions });
    } else if (err.code === ERR_REVOKE) {
      const mine = [...this.attached.keys()];
      for (const a of this.attached.values()) a.revoking = true;
      if (mine.length === 0) this.consumer.unassign();
      else this.notify({ type: 'revoke', partitions: mine });
    } else console.error(`weft: Kafka rebalance error: ${err.message}`);
  }

  /** The partition's end offset now: a shard that takes it over answers queries once it got there. */
  highWatermark(partition: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.consumer.queryWatermarkOffsets(this.k.kafkaTopic, partition, 10_000, (err, offsets) => {
        if (err) reject(new Error(`reading the end offset of partition ${partition}: ${err.message}`));
        else resolve(offsets.highOffset);
      });
    });
  }

  /** The main thread started the shard of `partition`; its snapshot covers offsets below indexFrom. */
  attach(partition: number, port: MessagePort, indexFrom: number): void {
    this.pendingAttach.set(partition, { port, indexFrom });
    if (this.assigning.every((p) => this.pendingAttach.has(p))) this.assignAttached();
  }

  private assignAttached(): void {
    const pending = this.pendingAttach;
    this.pendingAttach = new Map();
    const toppars = [...pending.keys()].map((partition) => ({ topic: this.k.kafkaTopic, partition }));
    this.consumer.committed(toppars, 10_000, (err, offsets) => {
      if (err)
        console.error(`weft: reading committed offsets failed, replaying from the snapshots: ${err.message}`);
      const assignment: Array<{ topic: string; partition: number; offset: number }> = [];
      for (const [partition, { port, indexFrom }] of pending) {
        const c = offsets?.find((o) => o.partition === partition)?.offset ?? -1;
        const committed = Math.max(c, 0);
        const a: Attached = { port, sentEnd: 0, takenEnd: 0, committed, revoking: false };
        port.on('message', (msg: ShardToFeed) => this.fromShard(partition, a, msg));
        port.postMessage({ type: 'start', chFrom: committed } satisfies FeedToShard);
        this.attached.set(partition, a);
        assignment.push({ topic: this.k.kafkaTopic, partition, offset: Math.min(indexFrom, committed) });
      }
      this.consumer.assign(assignment);
    });
  }

  /** The shards of revoked partitions are closed: commit their final offsets, then let the group move on. */
  detach(partition: number, index: number, ch: number): void {
    const a = this.attached.get(partition);
    if (!a) return;
    this.commit(partition, a, Math.min(index, ch));
    this.attached.delete(partition);
    if (this.attached.size === 0) this.consumer.unassign();
  }

  private fromShard(partition: number, a: Attached, msg: ShardToFeed): void {
    if (msg.type === 'dead') {
      this.bus.deadLetter(msg.payload, msg.reason, this.k.kafkaTopic, partition, msg.offset);
      return;
    }
    if (msg.applied >= 0) a.takenEnd = msg.applied;
    this.commit(partition, a, Math.min(msg.index, msg.ch));
  }

  private commit(partition: number, a: Attached, offset: number): void {
    if (offset <= a.committed) return;
    a.committed = offset;
    this.consumer.commit({ topic: this.k.kafkaTopic, partition, offset });
  }

  private paused(): boolean {
    for (const a of this.attached.values())
      if (a.sentEnd - a.takenEnd > MAX_UNTAKEN && a.sentEnd > 0) return true;
    return false;
  }

  private readonly poll = (): void => {
    if (this.closed) return;
    if (this.paused()) {
      setTimeout(this.poll, 2);
      return;
    }
    this.consumer.consume(FETCH, (err, messages) => {
      if (err) {
        console.error(`weft: Kafka consume failed, retrying: ${err.message}`);
        setTimeout(this.poll, 200);
        return;
      }
      this.forward(messages);
      setImmediate(this.poll);
    });
  };

  private forward(messages: Message[]): void {
    let i = 0;
    while (i < messages.length) {
      const partition = messages[i]!.partition;
      let j = i;
      while (j < messages.length && messages[j]!.partition === partition) j++;
      const a = this.attached.get(partition);
      if (a && !a.revoking) {
        const payloads: Uint8Array[] = [];
        const offsets: number[] = [];
        for (let m = i; m < j; m++) {
          // A copy the shard can own: the client's buffers may not be transferable.
          payloads.push(new Uint8Array(messages[m]!.value as Buffer));
          offsets.push(messages[m]!.offset);
        }
        const end = offsets[offsets.length - 1]! + 1;
        if (a.takenEnd === 0 && a.sentEnd === 0) a.takenEnd = offsets[0]!;
        a.sentEnd = end;
        a.port.postMessage(
          { type: 'records', payloads, offsets, end } satisfies FeedToShard,
          payloads.map((p) => p.buffer as ArrayBuffer),
        );
      }
      i = j;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      if (!this.consumer.isConnected()) return resolve();
      this.consumer.disconnect(() => resolve());
    });
  }
}
