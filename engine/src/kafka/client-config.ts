import type { WeftConfig } from '@weft/core';

/** The Kafka settings of a Weft process, as librdkafka properties. */
export type KafkaSettings = Pick<
  WeftConfig,
  | 'kafkaTopic'
  | 'kafkaDeadLetterTopic'
  | 'kafkaGroup'
  | 'kafkaMessageTimeoutMs'
  | 'kafkaSessionTimeoutMs'
  | 'shards'
> & { brokers: string };

/** Largest bus record: the producer splits batches below it, topics accept it. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export function producerConfig(k: KafkaSettings): Record<string, string | number | boolean> {
  return {
    'metadata.broker.list': k.brokers,
    'client.id': 'weft-ingest',
    dr_cb: true,
    // Records already batch a tick's events; linger adds the next tick's so each request is large.
    'linger.ms': 5,
    'batch.size': 4 * 1024 * 1024,
    'compression.type': 'lz4',
    'message.max.bytes': MAX_MESSAGE_BYTES + 65536,
    acks: 'all',
    'message.timeout.ms': k.kafkaMessageTimeoutMs,
    'queue.buffering.max.kbytes': 512 * 1024,
    'socket.keepalive.enable': true,
    'reconnect.backoff.max.ms': 1000,
  };
}

export function consumerConfig(k: KafkaSettings): Record<string, string | number | boolean> {
  return {
    'metadata.broker.list': k.brokers,
    'group.id': k.kafkaGroup,
    'client.id': 'weft-engine',
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'session.timeout.ms': k.kafkaSessionTimeoutMs,
    'heartbeat.interval.ms': Math.max(500, Math.floor(k.kafkaSessionTimeoutMs / 5)),
    'partition.assignment.strategy': 'range',
    'fetch.wait.max.ms': 20,
    'fetch.message.max.bytes': MAX_MESSAGE_BYTES + 65536,
    'queued.max.messages.kbytes': 256 * 1024,
    'reconnect.backoff.max.ms': 1000,
  };
}
