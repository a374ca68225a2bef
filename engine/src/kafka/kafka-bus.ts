import { WeftError } from '@weft/core';
import Kafka, { type DeliveryReport, type LibrdKafkaError, type Producer } from 'node-rdkafka';
import type { BusWriter } from '../bus/embedded-bus.js';
import { type KafkaSettings, producerConfig } from './client-config.js';
import { ensureTopics } from './topics.js';

/** Seconds a client is asked to wait before retrying while Kafka does not take records. */
const RETRY_AFTER_S = 2;

function unavailable(reason: string): WeftError {
  return new WeftError(
    'overloaded',
    `Kafka is not taking events (${reason}); retry shortly`,
    undefined,
    RETRY_AFTER_S,
  );
}

/** Opaque of dead-letter produces: nobody waits for them. */
const DEAD_LETTER = { deadLetter: true } as const;

/** librdkafka's "all broker connections are down". */
const ERR_ALL_BROKERS_DOWN = -187;

/** The produces issued between two commits, settled together. */
interface Group {
  remaining: number;
  closed: boolean;
  settled: boolean;
  failure: Error | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
  promise: Promise<void>;
}

function openGroup(): Group {
  const g = { remaining: 0, closed: false, settled: false, failure: undefined } as Group;
  g.promise = new Promise<void>((resolve, reject) => {
    g.resolve = resolve;
    g.reject = reject;
  });
  // A failed group is always awaited by the ingest worker; this only silences the unawaited copy.
  g.promise.catch(() => {});
  return g;
}

/**
 * The bus on Kafka: each record goes to the topic partition of its shard (users are hashed
 * onto partitions by the ingest router, so a user stays on one). `commit()` resolves when
 * the broker has confirmed every record produced since the previous commit (acks=all), and
 * rejects if any was not; the ingest worker acknowledges clients only then.
 */
export class KafkaBus implements BusWriter {
  private group: Group = openGroup();
  private readonly ends: number[];

  /** Connects a producer, creates the topics when missing, and returns the bus over them. */
  static async connect(k: KafkaSettings): Promise<KafkaBus> {
    const producer = new Kafka.Producer(producerConfig(k));
    await new Promise<void>((resolve, reject) =>
      producer.connect({ timeout: 15_000 }, (err) =>
        err ? reject(new Error(`Kafka at ${k.brokers} is not reachable: ${err.message}`)) : resolve(),
      ),
    );
    producer.setPollInterval(5);
    try {
      await ensureTopics(k, producer);
    } catch (err) {
      producer.disconnect();
      throw err;
    }
    return new KafkaBus(producer, k.kafkaTopic, k.kafkaDeadLetterTopic, k.shards, k.kafkaMessageTimeoutMs);
  }

  /**
   * Set while the client has no broker connection. librdkafka keeps records produced then
   * queued (no delivery report, not even at message.timeout.ms) until a broker is back, so
   * ingest refuses at once instead, and a metadata probe notices the broker's return.
   */
  private down = false;
  private probing: NodeJS.Timeout | undefined;

  private brokersDown(): void {
    if (this.down) return;
    this.down = true;
    const probe = () => {
      this.producer.getMetadata({ timeout: 1000 }, (err) => {
        if (!err) {
          this.down = false;
          this.probing = undefined;
        } else this.probing = setTimeout(probe, 500);
      });
    };
    this.probing = setTimeout(probe, 500);
  }

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly deadLetterTopic: string,
    readonly partitions: number,
    private readonly timeoutMs: number,
  ) {
    this.ends = new Array(partitions).fill(0);
    producer.on('event.error', (err: LibrdKafkaError) => {
      if (err.code === ERR_ALL_BROKERS_DOWN) this.brokersDown();
    });
    producer.on('delivery-report', (err: LibrdKafkaError | null, report: DeliveryReport) => {
      if (report.opaque === DEAD_LETTER) {
        if (err) console.error(`weft: a dead letter was not delivered: ${err.message}`);
        return;
      }
      const g = report.opaque as Group;
      if (err) g.failure ??= unavailable(err.message);
      else if (report.offset + 1 > this.ends[report.partition]!)
        this.ends[report.partition] = report.offset + 1;
      g.remaining--;
      if (g.closed && g.remaining === 0) settle(g);
    });
  }

  append(partition: number, payload: Uint8Array): void {
    if (this.down) throw unavailable('no broker connection');
    const g = this.group;
    try {
      this.producer.produce(
        this.topic,
        partition,
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        null,
        null,
        g,
      );
    } catch (err) {
      // The client's local queue is full: the broker has been away for a while.
      throw unavailable((err as Error).message);
    }
    g.remaining++;
  }

  /** Sends a record (or rejected events) that a consumer could not use to the dead-letter topic. */
  deadLetter(payload: Uint8Array, reason: string, topic: string, partition: number, offset: number): void {
    try {
      this.producer.produce(
        this.deadLetterTopic,
        null,
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        `${topic}/${partition}@${offset}`,
        Date.now(),
        DEAD_LETTER,
        [{ reason }, { topic }, { partition: String(partition) }, { offset: String(offset) }],
      );
    } catch (err) {
      console.error(
        `weft: could not dead-letter ${topic}/${partition}@${offset} (${reason}): ${(err as Error).message}`,
      );
    }
  }

  /** Offsets just past the last record the broker confirmed, per partition. */
  endOffset(partition: number): number {
    return this.ends[partition]!;
  }

  /** Kafka retention frees the topic; nothing to do here. */
  release(): void {}

  commit(): Promise<void> | undefined {
    const g = this.group;
    if (g.remaining === 0 && g.failure === undefined) return undefined;
    this.group = openGroup();
    g.closed = true;
    if (g.remaining === 0) settle(g);
    else {
      // Records queued when the connection dropped get no report until it is back: do not
      // keep the client waiting. (If they do land later, the client's retry is deduplicated.)
      const timer = setTimeout(() => {
        g.failure ??= unavailable('no delivery report in time');
        settle(g);
      }, this.timeoutMs + 1000);
      g.promise.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    }
    return g.promise;
  }

  close(): Promise<void> {
    if (this.probing) clearTimeout(this.probing);
    return new Promise((resolve) =>
      this.producer.flush(5000, () => this.producer.disconnect(() => resolve())),
    );
  }
}

function settle(g: Group): void {
  if (g.settled) return;
  g.settled = true;
  if (g.failure) g.reject(g.failure);
  else g.resolve();
}
