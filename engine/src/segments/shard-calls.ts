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
): Promise<void> {
  if (segments.length > 0) await askShards(engine, { op: 'define', project, segments });
}

/** Sends every stored definition and rule tag to the shards (at start: shards keep none of their own). */
export async function syncShards(engine: Engine, store: SegmentStore): Promise<void> {
  for (const project of store.projects()) {
    await askShards(engine, { op: 'rules', project, rules: store.rules(project) });
    await defineOnShards(engine, project, store.shardDefs(project));
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
