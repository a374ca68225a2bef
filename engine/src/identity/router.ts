import { closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ANON_ID_PROPERTY, IDENTIFY_EVENT, shardOf, type WeftEvent } from '@weft/core';
import { openJsonLinesForAppend, readJsonLines } from '../fs/durable-files.js';

/**
 * An order to move a person off the shard it lives on to the shard of the login id it was
 * identified as. `aliases` are the person's other ids: the new shard learns them at once,
 * before any of their events reach it.
 */
export interface Eviction {
  project: string;
  /** The anonymous id of the identify; the old shard evicts the person holding it. */
  id: string;
  aliases: string[];
  from: number;
  to: number;
}

/** Kafka mode: where the links topic was read up to (its offset), so a restart reads on from there. */
export function linksEndPath(dataDir: string): string {
  return join(dataDir, 'identity', 'links-end');
}

/** One identify's link, as other processes learn it (Kafka mode). */
export type Link = [project: string, anon: string, login: string];

/** Ids linked by identifies; they all live on one shard. */
interface Person {
  ids: string[];
  shard: number;
}

/**
 * Decides the shard of every event. A distinct id lives on the shard its hash picks until an
 * `$identify` links it to a login id: from then on every id of its person (all ids linked by
 * identifies, transitively) lives on one shard, and when a link joins two persons on
 * different shards, the anonymous side is evicted to the login's shard and all its ids are
 * routed there. Only identified ids are held. Each new link is appended to a file (replaying
 * the links in order rebuilds every route); `save` writes them before the records they
 * route are appended to the bus.
 */
export class Router {
  /** project -> identified id -> its person. */
  private readonly people = new Map<string, Map<string, Person>>();
  private unsaved = '';
  /** Links routed here since `takeMade`, for other processes to learn. */
  private made: Link[] = [];
  private readonly fd: number;

  constructor(
    path: string,
    readonly shards: number,
  ) {
    // `[project, anon, login]` is a link; `[project, id, shard]` an override of files written
    // before links were kept.
    readJsonLines<[string, string, string | number]>(path, ([project, id, other]) => {
      if (typeof other === 'number') this.personOf(project, id, other).shard = other;
      else this.link(project, other, id, undefined);
    });
    this.fd = openJsonLinesForAppend(path);
  }

  shardOf(project: string, distinctId: string): number {
    return this.placed(project, distinctId) ?? shardOf(project, distinctId, this.shards);
  }

  /** The shard of the person an identify put `distinctId` in; undefined for ids no identify named. */
  placed(project: string, distinctId: string): number | undefined {
    if (this.people.size === 0) return undefined;
    return this.people.get(project)?.get(distinctId)?.shard;
  }

  /**
   * Returns the shard of one event. An `$identify` linking two persons is recorded (see
   * `save`); when the anonymous side lived on another shard, its eviction is pushed to `out`.
   */
  route(e: WeftEvent, out: Eviction[]): number {
    const shard = this.shardOf(e.project, e.distinct_id);
    if (e.event !== IDENTIFY_EVENT || this.shards === 1) return shard;
    const anon = e.properties[ANON_ID_PROPERTY];
    if (typeof anon !== 'string' || anon === e.distinct_id) return shard;
    if (this.link(e.project, e.distinct_id, anon, out)) {
      const made: Link = [e.project, anon, e.distinct_id];
      this.unsaved += `${JSON.stringify(made)}\n`;
      this.made.push(made);
    }
    return shard;
  }

  /** The links routed here since the last call. */
  takeMade(): Link[] {
    const out = this.made;
    this.made = [];
    return out;
  }

  /**
   * Kafka mode: links another process routed (its identify evicted the person already), or
   * this one's coming back. They route the ids from now on, without evictions of their own.
   */
  learn(links: readonly Link[]): void {
    for (const [project, anon, login] of links) {
      if (this.shards > 1 && this.link(project, login, anon, undefined))
        this.unsaved += `${JSON.stringify([project, anon, login])}\n`;
    }
    this.save();
  }

  /** Makes the links routed since the last call durable (before their records are written). */
  save(): void {
    if (this.unsaved === '') return;
    writeSync(this.fd, this.unsaved);
    this.unsaved = '';
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Joins the persons of `anon` and `login` on the login's shard; false when they were one
   * already. Pushes the eviction of the anonymous side to `out` when it lived elsewhere.
   */
  private link(project: string, login: string, anon: string, out: Eviction[] | undefined): boolean {
    const from = this.shardOf(project, anon);
    const to = this.shardOf(project, login);
    const a = this.personOf(project, anon, from);
    const l = this.personOf(project, login, to);
    if (a === l) return false;
    if (from !== to && out) {
      const aliases = a.ids.filter((id) => id !== anon);
      out.push({ project, id: anon, aliases, from, to });
    }
    // The smaller person joins the larger: each id is re-pointed O(log n) times at most.
    const [big, small] = a.ids.length >= l.ids.length ? [a, l] : [l, a];
    const byId = this.people.get(project)!;
    for (const id of small.ids) {
      big.ids.push(id);
      byId.set(id, big);
    }
    big.shard = to;
    return true;
  }

  /** The person holding `id`, created on `shard` with `id` alone if no identify named it yet. */
  private personOf(project: string, id: string, shard: number): Person {
    let byId = this.people.get(project);
    if (!byId) this.people.set(project, (byId = new Map()));
    let person = byId.get(id);
    if (!person) byId.set(id, (person = { ids: [id], shard }));
    return person;
  }
}
