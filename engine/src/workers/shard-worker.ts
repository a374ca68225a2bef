import { parentPort, workerData } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import { partitionPath } from '../bus/embedded-bus.js';
import { EventRecord, RECORD_EVENTS } from '../bus/event-codec.js';
import { replayPartition } from '../bus/partition-log.js';
import { ClickHouse } from '../clickhouse/client.js';
import type { IdentityRow } from '../clickhouse/insert.js';
import { allPersonRows, takePersonRows } from '../clickhouse/person-rows.js';
import { applyRecord, setApplyObserver } from '../index/apply-record.js';
import { ProjectIndex } from '../index/project-index.js';
import { loadSnapshot, type Manifest, readManifest, writeSnapshot } from '../index/snapshot.js';
import { PartitionIntake } from '../kafka/partition-intake.js';
import { type EventsQuery, eventsPartial } from '../query/event-analysis.js';
import {
  type FunnelQuery,
  type FunnelUsersQuery,
  funnelPartial,
  funnelUsersPartial,
} from '../query/funnel.js';
import { type HeatmapQuery, heatmapPartial } from '../query/heatmap.js';
import { type PathsQuery, pathsPartial } from '../query/paths.js';
import { type RetentionQuery, retentionPartial } from '../query/retention.js';
import { systemClock } from '../segments/project-segments.js';
import type { SegmentRequest } from '../segments/protocol.js';
import { ShardSegments } from '../segments/shard-segments.js';
import type {
  BusRecord,
  QueryKind,
  RecordsMessage,
  ShardAnswer,
  ShardClosed,
  ShardQuery,
  ShardReply,
  ShardRequest,
  ShardWorkerData,
} from './protocol.js';

const IDLE_SNAPSHOT_MS = 1000;

/**
 * A shard: owns the index of the users hashed to it, consumes its bus partition, answers
 * its share of queries and snapshots itself. Everything here runs on one thread, so the
 * index needs no locks.
 */
const data = workerData as ShardWorkerData;
const port = parentPort!;
const dir = data.dir;
const unpackr = new Unpackr({ useRecords: true });

let manifest: Manifest = readManifest(dir);
const projects: Map<string, ProjectIndex> = loadSnapshot(dir, manifest);
/** Kafka with ClickHouse: the index's person mapping is mirrored to `identities` as it changes. */
const mirrorPersons = data.source === 'kafka' && data.clickhouse !== undefined;
if (mirrorPersons) for (const index of projects.values()) index.personChanges = new Set();
let applied = manifest.appliedOffset;
/** Moves handed to main whose arrival on the target partition is not yet confirmed. */
let unconfirmedMoves = 0;
const waiting: Array<{ minOffset: number; run: () => void }> = [];

function send(reply: ShardReply): void {
  port.postMessage(reply);
}

function project(name: string): ProjectIndex {
  let index = projects.get(name);
  if (!index) {
    index = new ProjectIndex(name);
    if (mirrorPersons) index.personChanges = new Set();
    projects.set(name, index);
  }
  return index;
}

const segments = new ShardSegments({
  dataDir: data.dataDir,
  shardDir: dir,
  project,
  loaded: projects.values(),
  clock: systemClock,
  publish: (changes) => send({ type: 'segment-changes', changes }),
});
setApplyObserver(segments);

function apply(payload: Uint8Array): void {
  if (payload[0] === RECORD_EVENTS) {
    const rec = new EventRecord(payload);
    const { forwards } = applyRecord(project(rec.project), rec);
    // Events of ids that left with their person (routed here by a collector that had not
    // learned the link yet) follow it, as a move of no ids; snapshots wait for them to land.
    for (const f of forwards) {
      unconfirmedMoves++;
      send({
        type: 'moved',
        project: rec.project,
        distinctId: f.id,
        ids: [],
        to: f.to,
        events: f.events,
        profile: f.once ?? null,
        set: f.set,
      });
    }
    return;
  }
  const record = unpackr.unpack(payload.subarray(1)) as BusRecord;
  const index = project(record.p);
  if (record.k === 'm') {
    const moved = {
      ids: record.ids ?? [],
      events: record.ev,
      profile: record.prof ?? undefined,
      set: record.set,
    };
    index.applyMoved(record.id, moved);
    segments.of(index).movedIn(record.id);
  } else if (record.k === 'a') {
    index.aliasAll(record.id, record.ids);
    segments.of(index).movedIn(record.id);
  } else {
    segments.of(index).evicting(record.id);
    // The id was identified as a login id living on another shard: hand its person over.
    // On Kafka, collectors that have not read the link yet may still route its ids here.
    const moved = index.evict(record.id, data.source === 'kafka' ? record.to : undefined);
    unconfirmedMoves++;
    send({
      type: 'moved',
      project: record.p,
      distinctId: record.id,
      ids: moved?.ids ?? [],
      to: record.to,
      events: moved?.events ?? [],
      profile: moved?.profile ?? null,
    });
  }
}

function releaseWaiting(): void {
  for (let i = 0; i < waiting.length; ) {
    if (waiting[i]!.minOffset <= applied) {
      const w = waiting.splice(i, 1)[0]!;
      w.run();
    } else i++;
  }
}

function runQuery(kind: QueryKind, args: unknown): unknown {
  switch (kind) {
    case 'events': {
      const q = args as EventsQuery & { project: string };
      const index = projects.get(q.project);
      return index ? eventsPartial(index, q) : [];
    }
    case 'funnel': {
      const q = args as FunnelQuery & { project: string };
      const index = projects.get(q.project);
      return index ? funnelPartial(index, q) : [];
    }
    case 'funnel-users': {
      const q = args as FunnelUsersQuery & { project: string };
      const index = projects.get(q.project);
      return index ? funnelUsersPartial(index, q) : [];
    }
    case 'retention': {
      const q = args as RetentionQuery & { project: string };
      const index = projects.get(q.project);
      return index ? retentionPartial(index, q) : [];
    }
    case 'paths': {
      const q = args as PathsQuery & { project: string };
      const index = projects.get(q.project);
      return index ? pathsPartial(index, q) : { nodes: [], links: [] };
    }
    case 'heatmap': {
      const q = args as HeatmapQuery & { project: string };
      const index = projects.get(q.project);
      return index ? heatmapPartial(index, q) : null;
    }
    case 'timeline': {
      const { project: p, distinctId } = args as { project: string; distinctId: string };
      const index = projects.get(p);
      if (!index) return null;
      return index.timeline(distinctId) ?? null;
    }
    case 'user': {
      // A user's summary without shipping the timeline: profile, counts, tags, segments.
      const { project: p, distinctId } = args as { project: string; distinctId: string };
      const index = projects.get(p);
      const n = index?.ids.get(distinctId);
      if (!index || n === undefined) return null;
      const rows = index.userRows(n);
      const times = index.time.data;
      const memberships = segments.query({ op: 'user', project: p, distinctId }) as {
        tags: Record<string, string | null>;
        segments: string[];
      } | null;
      return {
        properties: index.profiles[n] ?? {},
        event_count: rows.length,
        first_seen: rows.length > 0 ? times[rows[0]!]! : null,
        last_seen: rows.length > 0 ? times[rows[rows.length - 1]!]! : null,
        tags: memberships?.tags ?? {},
        segments: memberships?.segments ?? [],
      };
    }
    case 'segments':
      return segments.query(args as SegmentRequest);
    case 'stats': {
      let rows = 0;
      let users = 0;
      for (const index of projects.values()) {
        rows += index.rowCount;
        users += index.userCount;
      }
      return {
        shard: data.shard,
        rows,
        users,
        appliedOffset: applied,
        snapshotOffset: manifest.appliedOffset,
      };
    }
  }
}

function snapshot(): void {
  segments.persist();
  // A snapshot past an eviction whose events have not reached their new shard could lose them.
  if (unconfirmedMoves > 0 || applied === manifest.appliedOffset) return;
  manifest = writeSnapshot(dir, projects.values(), manifest, applied);
  send({ type: 'snapshotted', offset: manifest.appliedOffset });
  intake?.report();
}

async function close(id: number): Promise<void> {
  clearInterval(timer);
  clearInterval(segmentTimer);
  if (idleTimer) clearInterval(idleTimer);
  const ch = intake ? (await intake.close()).ch : applied;
  snapshot();
  segments.close();
  if (!intake) data.ingestPort.close();
  send({ type: 'result', id, value: { index: manifest.appliedOffset, ch } satisfies ShardClosed });
}

function setApplied(end: number): void {
  applied = end;
  if (waiting.length > 0) releaseWaiting();
}

/** Kafka mode: the process's consumer feeds this partition; the embedded log is not used. */
const intake = data.source === 'kafka' ? kafkaIntake() : undefined;

function kafkaIntake(): PartitionIntake {
  const indexFrom = applied;
  return new PartitionIntake(
    {
      partition: data.shard,
      indexFrom,
      apply,
      applied: setApplied,
      snapshotOffset: () => manifest.appliedOffset,
      allPersons: () => {
        const out: IdentityRow[] = [];
        for (const index of projects.values()) allPersonRows(index, out);
        return out;
      },
      takePersons: () => {
        let out: IdentityRow[] | undefined;
        for (const index of projects.values()) out = takePersonRows(index, out);
        return out;
      },
    },
    data.ingestPort,
    data.clickhouse ? new ClickHouse(data.clickhouse) : undefined,
  );
}

let validEnd = applied;
if (data.source === 'log') {
  validEnd = replayPartition(partitionPath(data.dataDir, data.shard), applied, (payload, end) => {
    apply(payload);
    applied = end;
  });
  applied = Math.max(applied, validEnd);
  data.ingestPort.on('message', (msg: RecordsMessage) => {
    for (const payload of msg.payloads) apply(payload);
    setApplied(msg.end);
  });
}
let rows = 0;
for (const index of projects.values()) rows += index.rowCount;
send({ type: 'ready', validEnd, rows });

const timer = setInterval(snapshot, data.snapshotIntervalMs);
// On Kafka, committed offsets wait for a snapshot: take one soon after the records stop.
const idleTimer = intake
  ? setInterval(() => {
      if (applied > manifest.appliedOffset && intake.idleMs > IDLE_SNAPSHOT_MS) snapshot();
    }, IDLE_SNAPSHOT_MS / 2)
  : undefined;
// Rolling windows slide with the clock: users whose window passed an event are re-evaluated.
const segmentTimer = setInterval(() => segments.tick(), 1000);

function answer(q: ShardQuery): ShardAnswer {
  try {
    return { type: 'result', id: q.id, value: runQuery(q.kind, q.args) };
  } catch (err) {
    return { type: 'error', id: q.id, message: (err as Error).message };
  }
}

/** Answers `q` now into `ready`, or later on its own once the records acked before it are applied. */
function query(q: ShardQuery, ready: ShardAnswer[]): void {
  // Read-your-writes: answer only once every record acked before the query is applied.
  if (q.minOffset <= applied) ready.push(answer(q));
  else waiting.push({ minOffset: q.minOffset, run: () => send(answer(q)) });
}

port.on('message', (msg: ShardRequest) => {
  switch (msg.type) {
    case 'query': {
      const ready: ShardAnswer[] = [];
      query(msg, ready);
      if (ready.length > 0) send(ready[0]!);
      break;
    }
    case 'queries': {
      const ready: ShardAnswer[] = [];
      for (const q of msg.queries) query(q, ready);
      if (ready.length > 0) send({ type: 'answers', answers: ready });
      break;
    }
    case 'moved-ack':
      unconfirmedMoves -= msg.count;
      break;
    case 'snapshot':
      snapshot();
      send({ type: 'result', id: msg.id, value: manifest.appliedOffset });
      break;
    case 'close':
      close(msg.id).catch((err: Error) => send({ type: 'error', id: msg.id, message: err.message }));
      break;
  }
});
