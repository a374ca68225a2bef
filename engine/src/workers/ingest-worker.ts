import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { StaticKeys, WeftError, type WeftEvent } from '@weft/core';
import { processBatch } from '@weft/ingest';
import { Packr } from 'msgpackr';
import { type BusWriter, EmbeddedBus } from '../bus/embedded-bus.js';
import { EventEncoder, RECORD_CONTROL } from '../bus/event-codec.js';
import { RelayBus } from '../bus/relay-bus.js';
import { writeFileAtomic } from '../fs/durable-files.js';
import { type Eviction, linksEndPath, Router } from '../identity/router.js';
import { hashEventId, projectSeeds } from '../index/dedup-table.js';
import type {
  BusRecord,
  IngestMessage,
  IngestOutcome,
  IngestReply,
  IngestRequest,
  IngestWorkerData,
  RecordsMessage,
} from './protocol.js';
import { moveKey } from './protocol.js';

/**
 * The producer side of the embedded pipeline, off the HTTP thread: decodes and validates
 * batches, routes each event to its user's shard, and appends one record per shard and
 * project to the bus for everything that arrived in one message, handing the same bytes
 * to the shards in one message each. Replies after the write (and fsync, per policy).
 */
const data = workerData as IngestWorkerData;
const port = parentPort!;
const keys = new StaticKeys(data.keys);
const relay = data.relay ? new RelayBus(data.shards) : undefined;
const bus: BusWriter =
  relay ??
  new EmbeddedBus(
    data.dataDir,
    data.shards,
    data.fsync,
    data.fsyncIntervalMs,
    data.validEnds,
    data.logSegmentBytes,
  );
const router = new Router(join(data.dataDir, 'identity', 'routes.ndjson'), data.shards);
const encoder = new EventEncoder();
/** Most events in one bus record. */
const MAX_RECORD_EVENTS = 2048;
const packr = new Packr({ useRecords: true });

/** Events of the current message per project and shard, in arrival order. */
const pending = new Map<string, WeftEvent[][]>();
const evictions: Eviction[] = [];
const outbox: Uint8Array[][] = Array.from({ length: data.shards }, () => []);
let closing = false;

function route(project: string, events: readonly WeftEvent[]): void {
  let perShard = pending.get(project);
  if (!perShard) {
    perShard = Array.from({ length: data.shards }, () => []);
    pending.set(project, perShard);
  }
  for (const e of events) {
    perShard[router.route(e, evictions)]!.push(e);
    if (evictions.length > 0) {
      // Everything routed so far (the identify too) precedes the eviction and the aliases on
      // their partitions, and every event routed after them follows: write them now.
      flushEvents();
      flushEvictions();
    }
  }
}

function append(partition: number, payload: Uint8Array): void {
  bus.append(partition, payload);
  outbox[partition]!.push(payload);
}

function control(record: BusRecord): Uint8Array {
  const packed = packr.pack(record);
  const out = new Uint8Array(packed.length + 1);
  out[0] = RECORD_CONTROL;
  out.set(packed, 1);
  return out;
}

const seeds = new Map<string, [number, number]>();
function seedsOf(project: string): [number, number] {
  let s = seeds.get(project);
  if (!s) seeds.set(project, (s = projectSeeds(project)));
  return s;
}

function flushEvents(): void {
  // Links are durable before the records they routed: a replay never meets a link the router lost.
  router.save();
  for (const [project, perShard] of pending) {
    for (let p = 0; p < perShard.length; p++) {
      const events = perShard[p]!;
      if (events.length === 0) continue;
      const hashes = new Uint32Array(events.length * 2);
      const seeds = seedsOf(project);
      for (let i = 0; i < events.length; i++) hashEventId(seeds, events[i]!.event_id, hashes, i * 2);
      // Bounded records keep every Kafka message well under its size limit.
      for (let i = 0; i < events.length; i += MAX_RECORD_EVENTS) {
        const to = Math.min(events.length, i + MAX_RECORD_EVENTS);
        const part = i === 0 && to === events.length ? events : events.slice(i, to);
        append(p, encoder.encode(project, part, hashes.subarray(i * 2, to * 2)));
      }
      perShard[p] = [];
    }
  }
}

/** Ids evicted while handling the current message: the reply tells main, which waits for their moves. */
let evicted: Array<{ key: string; from: number }> = [];

function flushEvictions(): void {
  for (const x of evictions) {
    append(x.from, control({ k: 'x', p: x.project, id: x.id, to: x.to }));
    // The person's other ids already route to `to`: their events must find the person there,
    // not start new ones, while its history is still on the way.
    if (x.aliases.length > 0) append(x.to, control({ k: 'a', p: x.project, id: x.id, ids: x.aliases }));
    evicted.push({ key: moveKey(x.project, x.id), from: x.from });
  }
  evictions.length = 0;
}

let deliveryDue = false;

/**
 * Hands the shards their records once the port's queued messages are all handled: one
 * message per shard for all of them, as every message wakes a thread that competes for the
 * same cores. On Kafka the consumer delivers instead.
 */
function deliverSoon(): void {
  if (relay || deliveryDue) return;
  deliveryDue = true;
  setImmediate(deliver);
}

function deliver(): void {
  deliveryDue = false;
  for (let p = 0; p < outbox.length; p++) {
    const payloads = outbox[p]!;
    if (payloads.length === 0) continue;
    const msg: RecordsMessage = { type: 'records', payloads, end: bus.endOffset(p) };
    data.shardPorts[p]!.postMessage(
      msg,
      payloads.map((x) => x.buffer as ArrayBuffer),
    );
    outbox[p] = [];
  }
}

function failure(id: number, err: unknown): IngestOutcome {
  if (err instanceof WeftError) {
    return {
      id,
      ok: false,
      code: err.code,
      message: err.message,
      details: err.details,
      retryAfter: err.retryAfter,
    };
  }
  return { id, ok: false, code: 'internal', message: (err as Error).message };
}

function handle(req: IngestRequest): IngestOutcome {
  try {
    switch (req.type) {
      case 'batch': {
        const { project, events, result } = processBatch(req.raw, keys, data.limits);
        route(project, events);
        return { id: req.id, ok: true, result };
      }
      case 'publish':
        route(req.project, req.events);
        return { id: req.id, ok: true, result: null };
      case 'move': {
        flushEvents();
        // The person may have moved on since its eviction (the next identify of a chain came
        // first, or the eviction was replayed after a crash): its history follows it there.
        // Another process's router may not know the person (routes are per process).
        const to = router.placed(req.project, req.distinctId) ?? req.to;
        const { project: p, distinctId: id, ids, events: ev, profile: prof, set } = req;
        append(to, control(set ? { k: 'm', p, id, ids, ev, prof, set } : { k: 'm', p, id, ids, ev, prof }));
        return { id: req.id, ok: true, result: null };
      }
      case 'release':
        bus.release(req.partition, req.offset);
        return { id: req.id, ok: true, result: null };
      case 'learn':
        router.learn(req.links);
        writeFileAtomic(linksEndPath(data.dataDir), String(req.end));
        return { id: req.id, ok: true, result: null };
      case 'close':
        closing = true;
        return { id: req.id, ok: true, result: null };
    }
  } catch (err) {
    return failure(req.id, err);
  }
}

function reply(msg: IngestReply): void {
  port.postMessage(msg);
}

port.on('message', (msg: IngestMessage) => {
  const outcomes = msg.requests.map(handle);
  try {
    flushEvents();
    deliverSoon();
  } catch (err) {
    // The log could not be written (disk full, I/O error): nothing of this message is acknowledged.
    reply({ type: 'done', outcomes: outcomes.map((o) => failure(o.id, err)), ends: [] });
    return;
  }
  const moved = evicted.length > 0 ? evicted : undefined;
  if (moved) evicted = [];
  // Only Kafka mode shares links: other processes route by them too.
  const made = router.takeMade();
  const links = relay && made.length > 0 ? made : undefined;
  const done = async () => {
    if (closing) {
      router.close();
      await bus.close();
    }
    const ends = Array.from({ length: data.shards }, (_, p) => bus.endOffset(p));
    if (!relay) return reply({ type: 'done', outcomes, ends, evicted: moved });
    const records = relay.take();
    port.postMessage(
      { type: 'done', outcomes, ends, records, evicted: moved, links } satisfies IngestReply,
      records.payloads.map((x) => x.buffer as ArrayBuffer),
    );
  };
  const fail = (err: unknown) =>
    reply({ type: 'done', outcomes: outcomes.map((o) => failure(o.id, err)), ends: [] });
  (bus.commit() ?? Promise.resolve()).then(done).catch(fail);
});

reply({ type: 'ready' });
