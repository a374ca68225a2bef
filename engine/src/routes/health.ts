import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../engine.js';

interface ShardStats {
  shard: number;
  rows: number;
  users: number;
  appliedOffset: number;
  snapshotOffset: number;
}

/** Liveness and Prometheus metrics: ingest totals, queue depth, per-shard index size and lag, latency. */
export function registerHealthRoutes(app: FastifyInstance, engine: Engine): void {
  const registry = new Registry();
  const latency = new Histogram({
    name: 'weft_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  new Counter({
    name: 'weft_events_accepted_total',
    help: 'Events accepted by ingest',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(engine.stats.eventsAccepted);
    },
  });
  new Counter({
    name: 'weft_events_rejected_total',
    help: 'Events rejected by ingest validation',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(engine.stats.eventsRejected);
    },
  });
  new Gauge({
    name: 'weft_ingest_pending_batches',
    help: 'Batches handed to the ingest worker and not yet acknowledged',
    registers: [registry],
    collect() {
      this.set(engine.stats.pendingBatches);
    },
  });
  const rows = new Gauge({
    name: 'weft_index_rows',
    help: 'Events in the index',
    labelNames: ['shard'],
    registers: [registry],
  });
  const users = new Gauge({
    name: 'weft_index_users',
    help: 'Users in the index',
    labelNames: ['shard'],
    registers: [registry],
  });
  const unsnapshotted = new Gauge({
    name: 'weft_shard_unsnapshotted_bytes',
    help: 'Log bytes applied but not yet in a snapshot (replayed after a crash)',
    labelNames: ['shard'],
    registers: [registry],
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    latency.observe({ route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  // partitions: the shards this process runs (all of them, unless Kafka spreads them over processes).
  app.get('/healthz', async () => ({
    status: 'ok',
    shards: engine.shardCount,
    partitions: engine.ownedPartitions,
  }));

  app.get('/metrics', async (_request, reply) => {
    const stats = await engine.queryShards<ShardStats>('stats', null);
    for (const s of stats) {
      const shard = String(s.shard);
      rows.set({ shard }, s.rows);
      users.set({ shard }, s.users);
      unsnapshotted.set({ shard }, s.appliedOffset - s.snapshotOffset);
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
