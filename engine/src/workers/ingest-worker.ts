import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { StaticKeys, WeftError, type WeftEvent } from '@weft/core';
import { processBatch } from '@weft/ingest';
import { Packr } from 'msgpackr';
import { EmbeddedBus } from '../bus/embedded-bus.js';
import { type Eviction, Router } from '../identity/router.js';
import type { BusRecord, IngestReply, IngestRequest, IngestWorkerData, RecordsMessage } from './protocol.js';

/**
 * The producer side of the embedded pipeline, off the HTTP thread: decodes and validates
 * batches, routes each event to its user's shard, appends one record per partition to the
 * bus and hands the same bytes to the shard. Replies after the write (and fsync, per policy).
 */
const data = workerData as IngestWorkerData;
const port = parentPort!;
const keys = new StaticKeys(data.keys);
const bus = new EmbeddedBus(data.dataDir, data.shards, data.fsync, data.fsyncIntervalMs, data.validEnds);
const router = new Router(join(data.dataDir, 'identity', 'routes.ndjson'), data.shards);
const packr = new Packr({ useRecords: true });
const perShard: WeftEvent[][] = Array.from({ length: data.shards }, () => []);

function appendRecord(partition: number, record: BusRecord, ends: Array<[number, number]>): void {
  const payload = packr.pack(record);
  const end = bus.append(partition, payload);
  // The shard gets its own copy to own; the pack buffer is reused by msgpackr.
  const copy = new Uint8Array(payload);
  const msg: RecordsMessage = { type: 'records', payload: copy, end };
  data.shardPorts[partition]!.postMessage(msg, [copy.buffer]);
  ends.push([partition, end]);
}

/** Splits events by shard and appends them; evictions go after the events that precede them. */
function publish(project: string, events: readonly WeftEvent[]): Array<[number, number]> {
  const ends: Array<[number, number]> = [];
  const evictions: Eviction[] = [];
  for (const e of events) {
    const { shard, eviction } = router.route(e);
    perShard[shard]!.push(e);
    if (eviction) evictions.push(eviction);
  }
  for (let p = 0; p < perShard.length; p++) {
    const list = perShard[p]!;
    if (list.length === 0) continue;
    appendRecord(p, { k: 'e', p: project, ev: list }, ends);
    perShard[p] = [];
  }
  for (const x of evictions) appendRecord(x.from, { k: 'x', p: x.project, id: x.id, to: x.to }, ends);
  return ends;
}

function reply(msg: IngestReply): void {
  port.postMessage(msg);
}

function fail(id: number, err: unknown): void {
  if (err instanceof WeftError) {
    reply({
      type: 'failed',
      id,
      code: err.code,
      message: err.message,
      details: err.details,
      retryAfter: err.retryAfter,
    });
  } else {
    reply({ type: 'failed', id, code: 'internal', message: (err as Error).message });
  }
}

function afterCommit(id: number, done: () => IngestReply): void {
  const commit = bus.commit();
  if (!commit) reply(done());
  else
    commit.then(
      () => reply(done()),
      (err) => fail(id, err),
    );
}

port.on('message', (msg: IngestRequest) => {
  try {
    switch (msg.type) {
      case 'batch': {
        const { project, events, result } = processBatch(msg.raw, keys, data.limits);
        const ends = events.length > 0 ? publish(project, events) : [];
        afterCommit(msg.id, () => ({ type: 'done', id: msg.id, result, ends }));
        break;
      }
      case 'publish': {
        const ends = publish(msg.project, msg.events);
        afterCommit(msg.id, () => ({ type: 'done', id: msg.id, result: null, ends }));
        break;
      }
      case 'move': {
        const ends: Array<[number, number]> = [];
        appendRecord(
          msg.to,
          { k: 'm', p: msg.project, id: msg.distinctId, ev: msg.events, prof: msg.profile },
          ends,
        );
        afterCommit(msg.id, () => ({ type: 'done', id: msg.id, result: null, ends }));
        break;
      }
      case 'close':
        bus.close();
        reply({ type: 'done', id: msg.id, result: null, ends: [] });
        break;
    }
  } catch (err) {
    fail(msg.id, err);
  }
});

reply({ type: 'ready' });
