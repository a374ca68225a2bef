import type { Catalog } from '@weft/segments';
import type { Engine } from '../engine.js';
import type { CatalogPart, SegmentRequest, ShardSegmentDef } from './protocol.js';
import type { SegmentStore } from './store.js';

/** The HTTP thread's calls into the shards' segment state (the `segments` query kind). */
export function askShards<T>(engine: Engine, req: SegmentRequest, only?: number): Promise<T[]> {
  return engine.queryShards<T>('segments', req, only);
}

export async function defineOnShards(
  engine: Engine,
  project: string,
  segments: ShardSegmentDef[],
  only?: number,
): Promise<void> {
  if (segments.length > 0) await askShards(engine, { op: 'define', project, segments }, only);
}

/**
 * Sends every stored definition and rule tag to the shards (or one): shards keep none of
 * their own, so this runs at start and whenever a Kafka partition's shard starts here.
 */
export async function syncShards(engine: Engine, store: SegmentStore, only?: number): Promise<void> {
  for (const project of store.projects()) {
    await askShards(engine, { op: 'rules', project, rules: store.rules(project) }, only);
    await defineOnShards(engine, project, store.shardDefs(project), only);
  }
}

/** Events and profile properties the project has seen, to reject definitions naming others. */
export async function projectCatalog(engine: Engine, project: string): Promise<Catalog> {
  const parts = await askShards<CatalogPart>(engine, { op: 'catalog', project });
  const events = new Set<string>();
  const properties = new Map<string, 'string' | 'number' | 'boolean'>();
  for (const part of parts) {
    for (const e of part.events) events.add(e);
    for (const [name, type] of part.properties) if (!properties.has(name)) properties.set(name, type);
  }
  return { events, properties };
}

export async function sumShards(engine: Engine, req: SegmentRequest): Promise<number> {
  return (await askShards<number>(engine, req)).reduce((a, b) => a + b, 0);
}
