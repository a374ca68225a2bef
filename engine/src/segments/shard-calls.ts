import type { Catalog, PropType } from '@weft/segments';
import type { Engine } from '../engine.js';
import type { CatalogPart, SegmentRequest, ShardSegmentDef } from './protocol.js';
import type { SegmentStore } from './store.js';

/** What the calls below need of the engine (a stub in unit tests). */
export type ShardQueries = Pick<Engine, 'queryShards'>;

/** The HTTP thread's calls into the shards' segment state (the `segments` query kind). */
export function askShards<T>(engine: ShardQueries, req: SegmentRequest, only?: number): Promise<T[]> {
  return engine.queryShards<T>('segments', req, only);
}

/**
 * Sends a segment request to the shards running in this process (one, or all): definition
 * changes reach shards this way only, since on Kafka every process applies each change to
 * its own shards.
 */
export type OwnShards = (req: SegmentRequest, only?: number) => Promise<unknown>;

export function ownShards(engine: Pick<Engine, 'askOwnShards'>): OwnShards {
  return (req, only) => engine.askOwnShards('segments', req, only);
}

export async function defineOnShards(
  shards: OwnShards,
  project: string,
  segments: ShardSegmentDef[],
  only?: number,
): Promise<void> {
  if (segments.length > 0) await shards({ op: 'define', project, segments }, only);
}

/**
 * Sends every stored definition and rule tag to this process's shards (or one): shards keep
 * none of their own, so this runs at start and whenever a Kafka partition's shard starts here.
 */
export async function syncShards(shards: OwnShards, store: SegmentStore, only?: number): Promise<void> {
  for (const project of store.projects()) {
    await shards({ op: 'rules', project, rules: store.rules(project) }, only);
    await defineOnShards(shards, project, store.shardDefs(project), only);
  }
}

/** Redefines the segments counting a defined event, so shards count what it now stands for. */
export async function redefineEventReaders(
  shards: OwnShards,
  store: SegmentStore,
  project: string,
  name: string,
): Promise<void> {
  const readers = store.eventReaders(project, name).map((seg) => store.shardDef(project, seg));
  await defineOnShards(shards, project, readers);
}

/**
 * Events, their properties and profile properties the project has seen, to reject definitions
 * naming others. Where shards disagree on a type, the first to answer wins.
 */
export async function projectCatalog(engine: Engine, project: string): Promise<Catalog> {
  const parts = await askShards<CatalogPart>(engine, { op: 'catalog', project });
  const events = new Set<string>();
  const properties = new Map<string, PropType>();
  const eventProperties = new Map<string, Map<string, PropType>>();
  const add = (into: Map<string, PropType>, [name, type]: [string, PropType]): void => {
    if (!into.has(name)) into.set(name, type);
  };
  for (const part of parts) {
    for (const e of part.events) events.add(e);
    for (const p of part.properties) add(properties, p);
    for (const [event, props] of part.eventProperties) {
      let known = eventProperties.get(event);
      if (!known) {
        known = new Map();
        eventProperties.set(event, known);
      }
      for (const p of props) add(known, p);
    }
  }
  return { events, properties, eventProperties };
}

export async function sumShards(engine: ShardQueries, req: SegmentRequest): Promise<number> {
  return (await askShards<number>(engine, req)).reduce((a, b) => a + b, 0);
}
