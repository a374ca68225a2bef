import { WeftError } from '@weft/core';
import Kafka, {
  type DeliveryReport,
  type KafkaConsumer,
  type LibrdKafkaError,
  type Message,
  type Producer,
} from 'node-rdkafka';
import { type KafkaSettings, MAX_MESSAGE_BYTES, producerConfig } from './client-config.js';

/** One keyed record; a null value deletes the key (a tombstone, which compaction honours). */
export interface TopicRecord {
  key: string;
  value: Buffer | null;
}

/** A record as read, with its offset in the partition. */
export interface OffsetRecord extends TopicRecord {
  offset: number;
}

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING: the oldest record retention or compaction kept. */
export const BEGINNING = -2;
const FETCH = 500;

/** The records of one `write`, settled when the broker confirmed (or refused) all of them. */
class PendingWrite {
  private remaining: number;
  private end = 0;
  private failure: Error | undefined;
  readonly done: Promise<number>;
  private settle!: (end: number | Error) => void;

  constructor(
    count: number,
    timeoutMs: number,
    private readonly what: string,
  ) {
    this.remaining = count;
    this.done = new Promise<number>((resolve, reject) => {
      // Records queued while no broker answers get no report at all: give up in time.
      const timer = setTimeout(() => this.settle(unavailable(what, 'no delivery report in time')), timeoutMs);
      this.settle = (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }

  report(err: LibrdKafkaError | null, offset: number): void {
    if (err) this.failure ??= unavailable(this.what, err.message);
    else this.end = Math.max(this.end, offset + 1);
    if (--this.remaining === 0) this.settle(this.failure ?? this.end);
  }
}

function unavailable(what: string, reason: string): WeftError {
  return new WeftError('overloaded', `Kafka is not taking ${what} (${reason}); retry shortly`, undefined, 2);
}

/** Which one-partition topic a log reads, where it starts, and how it names itself. */
export interface TopicLogOptions {
  topic: string;
  /** librdkafka client id, also the consumer's group id suffix (it never joins or commits). */
  client: string;
  /** What the records are, for errors: "Kafka is not taking <what>". */
  what: string;
  /** The first offset to read; BEGINNING for all that retention kept. */
  from: number;
}

/**
 * A one-partition topic as every engine process sees it (the definitions, the segment change
 * feed): read from a start offset, then followed record by record; `write` resolves with
 * the offset just past the records once the broker holds them. Each process reads the whole
 * partition, so the consumer assigns it directly and never joins a group or commits.
 * node-rdkafka runs on the main thread: its callbacks only reach that thread's loop.
 */
export class TopicLog {
  private applied: number;
  /** Where the broker last reported the end of the partition; -1 before it did. */
  private endSeen = -1;
  private waiters: Array<{ offset: number; resolve: (ok: boolean) => void }> = [];
  private closed = false;

  private constructor(
    private readonly producer: Producer,
    private readonly consumer: KafkaConsumer,
    private readonly options: TopicLogOptions,
    private readonly timeoutMs: number,
  ) {
    this.applied = Math.max(0, options.from);
    producer.on('delivery-report', (err: LibrdKafkaError | null, report: DeliveryReport) => {
      (report.opaque as PendingWrite).report(err, report.offset);
    });
    consumer.on('partition.eof', (eof) => {
      this.endSeen = Math.max(this.endSeen, eof.offset);
    });
  }

  static async open(k: KafkaSettings, options: TopicLogOptions): Promise<TopicLog> {
    const producer = new Kafka.Producer({
      ...producerConfig(k),
      'client.id': options.client,
      // The records of one write (a static list's chunks, then its header) keep their order.
      'enable.idempotence': true,
      'linger.ms': 0,
    });
    await connect(producer, k.brokers);
    producer.setPollInterval(5);
    const consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': k.brokers,
        'group.id': `${k.kafkaGroup}.${options.client}`,
        'client.id': options.client,
        'enable.auto.commit': false,
        'fetch.wait.max.ms': 10,
        'fetch.message.max.bytes': MAX_MESSAGE_BYTES + 65536,
        'enable.partition.eof': true,
        'reconnect.backoff.max.ms': 1000,
      },
      // A start offset retention has passed reads from the oldest record kept.
      { 'auto.offset.reset': 'earliest' },
    );
    try {
      await connect(consumer, k.brokers);
    } catch (err) {
      producer.disconnect();
      throw err;
    }
    consumer.setDefaultConsumeTimeout(50);
    consumer.assign([{ topic: options.topic, partition: 0, offset: options.from }]);
    return new TopicLog(producer, consumer, options, k.kafkaMessageTimeoutMs + 1000);
  }

  /** Offset just past the last record handled (read at start, or applied since). */
  get appliedEnd(): number {
    return this.applied;
  }

  /**
   * Reads from the beginning to the end: each key's latest value, in the order of those
   * values (a deleted key is absent), and whether the topic was ever written to at all.
   * The end is where the broker reports end-of-partition: compaction may have removed the
   * records just below the high watermark, so counting up to it could wait forever.
   */
  async readAll(): Promise<{ latest: Map<string, Buffer>; empty: boolean }> {
    const latest = new Map<string, Buffer>();
    while (this.endSeen < 0) {
      for (const m of await this.consume()) {
        const key = m.key?.toString();
        if (key !== undefined) {
          latest.delete(key);
          if (m.value) latest.set(key, m.value);
        }
        this.applied = m.offset + 1;
      }
    }
    this.applied = Math.max(this.applied, this.endSeen);
    // Offsets only grow, compaction or not: an end at 0 means nothing was ever written.
    return { latest, empty: this.applied === 0 };
  }

  /**
   * Hands every later record to `apply` with its offset, in order, a fetch at a time; a
   * failed apply is logged and passed.
   */
  follow(apply: (records: readonly OffsetRecord[]) => Promise<void> | void): void {
    const poll = async (): Promise<void> => {
      while (!this.closed) {
        let messages: Message[];
        try {
          messages = await this.consume();
        } catch (err) {
          if (this.closed) return;
          console.error(`weft: reading ${this.options.topic} failed, retrying: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const records: OffsetRecord[] = [];
        for (const m of messages) {
          if (m.offset < this.applied || m.key === undefined || m.key === null) continue;
          records.push({ key: m.key.toString(), value: m.value, offset: m.offset });
        }
        if (records.length > 0) {
          const last = records.at(-1)!.offset;
          try {
            await apply(records);
          } catch (err) {
            console.error(`weft: applying ${this.options.topic}@${records[0]!.offset}..${last} failed`, err);
          }
          this.advance(last + 1);
        }
        // Offsets compaction emptied count as applied too: a peer may wait for them.
        if (this.endSeen > this.applied) this.advance(this.endSeen);
      }
    };
    void poll();
  }

  private consume(): Promise<Message[]> {
    return new Promise((resolve, reject) =>
      this.consumer.consume(FETCH, (err, messages) => (err ? reject(err) : resolve(messages))),
    );
  }

  private advance(end: number): void {
    this.applied = end;
    this.waiters = this.waiters.filter((w) => {
      if (w.offset > end) return true;
      w.resolve(true);
      return false;
    });
  }

  /** True once everything below `offset` is applied here; false if that takes longer than `timeoutMs`. */
  whenApplied(offset: number, timeoutMs: number): Promise<boolean> {
    if (offset <= this.applied) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        offset,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Produces the records in order; resolves with the offset just past them once the broker holds them all. */
  write(records: readonly TopicRecord[]): Promise<number> {
    if (records.length === 0) return Promise.resolve(this.applied);
    const pending = new PendingWrite(records.length, this.timeoutMs, this.options.what);
    try {
      for (const r of records)
        this.producer.produce(this.options.topic, 0, r.value, r.key, Date.now(), pending);
    } catch (err) {
      // The client's local queue is full: the broker has been away for a while. Reports of
      // the records already queued still settle `pending`, which nobody awaits now.
      pending.done.catch(() => {});
      return Promise.reject(unavailable(this.options.what, (err as Error).message));
    }
    return pending.done;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.resolve(false);
    return new Promise((resolve) =>
      this.producer.flush(5000, () =>
        this.producer.disconnect(() => {
          if (!this.consumer.isConnected()) return resolve();
          this.consumer.disconnect(() => resolve());
        }),
      ),
    );
  }
}

function connect(client: Producer | KafkaConsumer, brokers: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.connect({ timeout: 15_000 }, (err) =>
      err ? reject(new Error(`Kafka at ${brokers} is not reachable: ${err.message}`)) : resolve(),
    ),
  );
}

/** Most records in one write of a QueuedWrites. */
const WRITE_MAX = 10_000;
const RETRY_MS = 1000;

/**
 * Writes items to a TopicLog in order, a batch at a time, retrying what the broker refuses:
 * nothing queued is lost while the process runs, though after a failure an item may be
 * written twice. For records no client waits on (segment changes, identity links).
 */
export class QueuedWrites<T> {
  private queue: T[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly log: TopicLog,
    private readonly encode: (item: T) => TopicRecord,
    private readonly what: string,
  ) {}

  add(items: readonly T[]): void {
    for (const item of items) this.queue.push(item);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, WRITE_MAX);
      try {
        await this.log.write(batch.map(this.encode));
      } catch (err) {
        const reason = (err as Error).message;
        if (this.closed) {
          console.error(
            `weft: ${batch.length + this.queue.length} ${this.what} not written at close: ${reason}`,
          );
          this.queue = [];
          return;
        }
        this.queue = batch.concat(this.queue);
        console.error(`weft: writing ${this.what} failed, retrying: ${reason}`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** Writes what is queued (one more try each, once closing). */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
  }
}
