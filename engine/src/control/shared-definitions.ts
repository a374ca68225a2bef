import { WeftError } from '@weft/core';
import type { KafkaSettings } from '../kafka/client-config.js';
import { BEGINNING, TopicLog, type TopicRecord } from '../kafka/topic-log.js';
import { metaTopic } from '../kafka/topics.js';
import { type OwnShards, syncShards } from '../segments/shard-calls.js';
import {
  applyChange,
  type DefinitionChange,
  type DefinitionTargets,
  type DefinitionWriter,
} from './definition-change.js';
import { loadChanges, storedChanges } from './definition-snapshot.js';
import { encodeChange, MetaDecoder } from './meta-records.js';

/** Longest wait of a write for its own change to be applied here. */
const APPLY_WAIT_MS = 30_000;

/** Longest wait of a peer's fan-out for this process to apply the changes the asker had. */
const PEER_WAIT_MS = 10_000;

/**
 * Kafka mode: segment definitions, rule tags, static lists and defined events live in the
 * compacted definitions topic. A change is written there by the process that took the API
 * call, and every process (that one too) applies the topic's records in order to its stores
 * and its own shards; the call answers once its change is applied here.
 */
export class SharedDefinitions implements DefinitionWriter {
  private log: TopicLog | undefined;
  private readonly decoder = new MetaDecoder();
  private shards: OwnShards | undefined;
  /** Resolves once the stores hold what the topic held at start. */
  private readonly ready: Promise<void>;
  private opened!: () => void;

  constructor(
    private readonly k: KafkaSettings,
    private readonly stores: Omit<DefinitionTargets, 'shards'>,
  ) {
    this.ready = new Promise((resolve) => {
      this.opened = resolve;
    });
  }

  /**
   * A partition's shard started in this process: it gets every definition once they are
   * read. A change applied meanwhile reaches it too, after what this sends, since each
   * request carries the stores' state when it is sent and a shard takes requests in order.
   */
  async shardStarted(partition: number): Promise<void> {
    await this.ready;
    await syncShards(this.shards!, this.stores.segments, partition);
  }

  /**
   * Reads the topic to its end into the stores, then follows it. A topic never written to is
   * seeded with the definitions this process's data dir held.
   */
  async open(shards: OwnShards): Promise<void> {
    this.shards = shards;
    let seed: DefinitionChange[];
    try {
      const log = await TopicLog.open(this.k, {
        topic: metaTopic(this.k),
        client: 'weft-meta',
        what: 'definitions',
        from: BEGINNING,
      });
      this.log = log;
      const { latest, empty } = await log.readAll();
      seed = empty ? storedChanges(this.stores) : [];
      if (!empty) loadChanges(this.stores, this.decode([...latest].map(([key, value]) => ({ key, value }))));
      log.follow((records) => this.apply(records));
    } finally {
      // Shards that started meanwhile get the definitions now (or, on failure, what the data dir holds).
      this.opened();
    }
    if (seed.length > 0) await this.commit(seed.flatMap((c) => this.encode(c)));
  }

  private decode(records: readonly TopicRecord[]): DefinitionChange[] {
    const out: DefinitionChange[] = [];
    for (const r of records) {
      try {
        const c = this.decoder.take(r);
        if (c) out.push(c);
      } catch (err) {
        console.error(`weft: skipping an unreadable definitions record ${r.key}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  private async apply(records: readonly TopicRecord[]): Promise<void> {
    for (const c of this.decode(records)) {
      try {
        await applyChange({ ...this.stores, shards: this.shards! }, c);
      } catch (err) {
        console.error(`weft: applying a ${c.type} change failed`, err);
      }
    }
  }

  private encode(c: DefinitionChange): TopicRecord[] {
    return encodeChange(c, this.decoder.listVersion);
  }

  /** Writes records and waits until this process applied them. */
  private async commit(records: TopicRecord[]): Promise<void> {
    const log = this.log!;
    const end = await log.write(records);
    if (!(await log.whenApplied(end, APPLY_WAIT_MS))) {
      throw new WeftError(
        'overloaded',
        'the change is stored but not applied here yet; retry shortly',
        undefined,
        1,
      );
    }
  }

  write(change: DefinitionChange): Promise<void> {
    return this.commit(this.encode(change));
  }

  /** Offset just past the last change applied here; peers answer a fan-out once they applied as much. */
  get appliedEnd(): number {
    return this.log?.appliedEnd ?? 0;
  }

  /** Resolves once this process applied every change below `offset` (what a peer had applied when it asked). */
  async caughtUp(offset: number): Promise<void> {
    if (!this.log || !(await this.log.whenApplied(offset, PEER_WAIT_MS))) {
      throw new WeftError('overloaded', 'definitions are still being read here; retry shortly', undefined, 1);
    }
  }

  async close(): Promise<void> {
    await this.log?.close();
  }
}
