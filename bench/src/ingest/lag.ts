/**
 * Consumer-lag sampler, forked by run.ts for `--kafka`. node-rdkafka can be loaded in one thread
 * per process, and in the runner that is the server's own, so this runs in a child process.
 *
 * It is a KafkaConsumer with the engine's group.id that never subscribes, so it never joins the
 * group (no rebalance, no assignment): it only asks the group coordinator for the committed
 * offsets (OffsetFetch) and the partition leader for the high watermarks, every `intervalMs`.
 */
import Kafka from 'node-rdkafka';
import type { LagCommand, LagMessage, LagPartition } from './protocol.js';

let consumer: Kafka.KafkaConsumer | undefined;
let timer: NodeJS.Timeout | undefined;
let stopped = false;

function send(msg: LagMessage): void {
  if (process.connected) process.send!(msg);
}

function watermark(c: Kafka.KafkaConsumer, topic: string, partition: number): Promise<number> {
  return new Promise((resolve, reject) => {
    c.queryWatermarkOffsets(topic, partition, 5000, (err, offsets) => {
      if (err) reject(new Error(`watermarks of ${topic}/${partition}: ${err.message}`));
      else resolve(offsets.highOffset);
    });
  });
}

function committed(c: Kafka.KafkaConsumer, topic: string, partitions: number): Promise<number[]> {
  const toppars = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  return new Promise((resolve, reject) => {
    c.committed(toppars, 5000, (err, offsets) => {
      if (err) reject(new Error(`committed offsets: ${err.message}`));
      // No commit yet is a negative sentinel (-1001): the group starts at the beginning (0).
      else
        resolve(
          toppars.map((tp) => Math.max(0, offsets.find((o) => o.partition === tp.partition)?.offset ?? 0)),
        );
    });
  });
}

async function start(cmd: Extract<LagCommand, { type: 'start' }>): Promise<void> {
  const c = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': cmd.brokers,
      'group.id': cmd.group,
      'client.id': 'weft-bench-lag',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
    },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    c.connect({ timeout: 10_000 }, (err) =>
      err ? reject(new Error(`connecting: ${err.message}`)) : resolve(),
    ),
  );
  consumer = c;
  send({ type: 'ready' });
  let next = Date.now();
  const tick = async (): Promise<void> => {
    if (stopped) return;
    const startedAt = Date.now();
    try {
      // Watermarks first: a commit that lands between the two reads can only make lag smaller
      // than the truth for a moment, never negative (clamped below).
      const highs = await Promise.all(
        Array.from({ length: cmd.partitions }, (_, p) => watermark(c, cmd.topic, p)),
      );
      const commits = await committed(c, cmd.topic, cmd.partitions);
      const partitions: LagPartition[] = highs.map((high, p) => ({
        partition: p,
        high,
        committed: commits[p]!,
      }));
      send({
        type: 'sample',
        startedAt,
        ms: Date.now() - startedAt,
        partitions,
        lag: partitions.reduce((s, x) => s + Math.max(0, x.high - x.committed), 0),
        high: highs.reduce((s, h) => s + h, 0),
      });
    } catch (err) {
      send({ type: 'sample-error', startedAt, message: (err as Error).message });
    }
    next += cmd.intervalMs;
    const now = Date.now();
    if (next < now) next = now; // a slow sample skips ticks instead of bunching them
    if (!stopped) timer = setTimeout(() => void tick(), next - now);
  };
  void tick();
}

function stop(): void {
  stopped = true;
  if (timer) clearTimeout(timer);
  const c = consumer;
  consumer = undefined;
  if (!c) {
    process.exit(0);
    return;
  }
  c.disconnect(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}

process.on('message', (cmd: LagCommand) => {
  if (cmd.type === 'start') {
    start(cmd).catch((err: Error) => send({ type: 'error', message: err.message }));
  } else stop();
});
process.on('disconnect', stop);
