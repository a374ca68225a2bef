import Kafka, { type LibrdKafkaError, type Producer } from 'node-rdkafka';
import { type KafkaSettings, MAX_MESSAGE_BYTES } from './client-config.js';

const TOPIC_ALREADY_EXISTS = 36;

/** The compacted topic of segment and tag definitions and defined events (see meta-log.ts). */
export function metaTopic(k: Pick<KafkaSettings, 'kafkaTopic'>): string {
  return `${k.kafkaTopic}.meta`;
}

/** The segment entry/exit feed of every process's shards, one record per change (see control/shared-changes.ts). */
export function changesTopic(k: Pick<KafkaSettings, 'kafkaTopic'>): string {
  return `${k.kafkaTopic}.changes`;
}

/** Segment size samples and runs, mirrored by every process (see control/shared-runs.ts). */
export function runsTopic(k: Pick<KafkaSettings, 'kafkaTopic'>): string {
  return `${k.kafkaTopic}.runs`;
}

/** Identity links of every process's identifies (see control/shared-links.ts). */
export function linksTopic(k: Pick<KafkaSettings, 'kafkaTopic'>): string {
  return `${k.kafkaTopic}.links`;
}

function createTopic(
  brokers: string,
  topic: string,
  partitions: number,
  config: Record<string, string> = {},
): Promise<void> {
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': brokers, 'client.id': 'weft-admin' });
  return new Promise<void>((resolve, reject) => {
    admin.createTopic(
      {
        topic,
        num_partitions: partitions,
        replication_factor: -1,
        config: { 'max.message.bytes': String(MAX_MESSAGE_BYTES + 65536), ...config },
      },
      15_000,
      (err: LibrdKafkaError | undefined) => {
        admin.disconnect();
        if (err && err.code !== TOPIC_ALREADY_EXISTS)
          reject(new Error(`creating Kafka topic ${topic}: ${err.message}`));
        else resolve();
      },
    );
  });
}

function partitionCount(producer: Producer, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    producer.getMetadata({ topic, timeout: 10_000 }, (err, md) => {
      if (err) reject(new Error(`reading Kafka metadata of ${topic}: ${err.message}`));
      else resolve(md.topics.find((t) => t.name === topic)?.partitions.length ?? 0);
    });
  });
}

/**
 * Creates the events topic (one partition per shard), its dead-letter topic, the
 * definitions topic, and the changes, runs and links topics when missing. The definitions topic has one
 * partition, so every process applies changes in one order, and is compacted: it keeps each
 * definition's latest state. The changes and runs topics have one partition too, so every
 * process mirrors them in one order (change ids are offsets); the broker's retention bounds
 * the changes, while runs and identity links are kept.
 * An existing events topic must have exactly WEFT_SHARDS partitions: users are hashed onto
 * partitions, and a different count would put a user's events on two.
 */
export async function ensureTopics(k: KafkaSettings, producer: Producer): Promise<void> {
  await createTopic(k.brokers, k.kafkaTopic, k.shards);
  await createTopic(k.brokers, k.kafkaDeadLetterTopic, 1);
  await createTopic(k.brokers, metaTopic(k), 1, { 'cleanup.policy': 'compact' });
  await createTopic(k.brokers, changesTopic(k), 1);
  // Kept for good: hourly samples are small, and a process started later shows the whole history.
  await createTopic(k.brokers, runsTopic(k), 1, { 'retention.ms': '-1' });
  // Kept for good too: a process started later must route by every link.
  await createTopic(k.brokers, linksTopic(k), 1, { 'retention.ms': '-1' });
  // Metadata can trail a fresh topic by a moment.
  for (let attempt = 0; ; attempt++) {
    const n = await partitionCount(producer, k.kafkaTopic);
    if (n === k.shards) return;
    if (n > 0 || attempt >= 50) {
      throw new Error(
        `Kafka topic ${k.kafkaTopic} has ${n} partitions but WEFT_SHARDS is ${k.shards}; set WEFT_SHARDS=${n} or use another KAFKA_TOPIC`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
