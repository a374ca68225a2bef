import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ANON_ID_PROPERTY, IDENTIFY_EVENT, shardOf, type WeftEvent } from '@weft/core';
import { readJsonLines } from '../fs/durable-files.js';

/** An order to move an anonymous id's history to the shard of the login id it was identified as. */
export interface Eviction {
  project: string;
  id: string;
  from: number;
  to: number;
}

/**
 * Decides the shard of every event. A distinct id lives on the shard its hash picks, until
 * an `$identify` links it to a login id on another shard: from then on it is routed there
 * (the override is durable, in an append-only file) and its history is evicted to follow.
 */
export class Router {
  private readonly overrides = new Map<string, number>();

  constructor(
    private readonly path: string,
    readonly shards: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    readJsonLines<[string, string, number]>(path, ([project, id, shard]) => {
      this.overrides.set(`${project}\u0000${id}`, shard);
    });
  }

  shardOf(project: string, distinctId: string): number {
    if (this.overrides.size > 0) {
      const o = this.overrides.get(`${project}\u0000${distinctId}`);
      if (o !== undefined) return o;
    }
    return shardOf(project, distinctId, this.shards);
  }

  /**
   * Routes one event. For an `$identify` whose anonymous id lives on another shard, records
   * the override and returns the eviction to append to the anonymous id's old partition.
   */
  route(e: WeftEvent): { shard: number; eviction?: Eviction } {
    const shard = this.shardOf(e.project, e.distinct_id);
    if (e.event !== IDENTIFY_EVENT || this.shards === 1) return { shard };
    const anon = e.properties[ANON_ID_PROPERTY];
    if (typeof anon !== 'string' || anon === e.distinct_id) return { shard };
    const from = this.shardOf(e.project, anon);
    if (from === shard) return { shard };
    this.overrides.set(`${e.project}\u0000${anon}`, shard);
    appendFileSync(this.path, `${JSON.stringify([e.project, anon, shard])}\n`);
    return { shard, eviction: { project: e.project, id: anon, from, to: shard } };
  }
}
