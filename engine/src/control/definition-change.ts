import type { Segment } from '@weft/segments';
import type { Definition, DefinitionStore } from '../definitions/store.js';
import { defineOnShards, type OwnShards, redefineEventReaders } from '../segments/shard-calls.js';
import type { SegmentStore } from '../segments/store.js';

/** One accepted change to a project's definitions, validated by the route that took it. */
export type DefinitionChange =
  | { type: 'segment'; project: string; segment: Segment }
  | { type: 'segment-deleted'; project: string; id: string }
  | { type: 'static-list'; project: string; id: string; members: string[]; updated_at: number }
  | { type: 'rule'; project: string; tag: string; segment: string | undefined }
  | { type: 'event'; project: string; definition: Definition }
  | { type: 'event-deleted'; project: string; name: string };

/** Where routes send changes; it resolves once the change is applied in this process. */
export interface DefinitionWriter {
  write(change: DefinitionChange): Promise<void>;
}

/** The stores a process keeps definitions in, and its own shards, which maintain them. */
export interface DefinitionTargets {
  segments: SegmentStore;
  definitions: DefinitionStore;
  shards: OwnShards;
}

/** Applies a change to this process's stores, then brings its own shards up to date. */
export async function applyChange(t: DefinitionTargets, c: DefinitionChange): Promise<void> {
  switch (c.type) {
    case 'segment':
      t.segments.put(c.project, c.segment);
      // Shards recompute the realtime segments reading this one and report their changes.
      await defineOnShards(t.shards, c.project, [t.segments.shardDef(c.project, c.segment)]);
      return;
    case 'segment-deleted':
      if (t.segments.delete(c.project, c.id)) await t.shards({ op: 'delete', project: c.project, id: c.id });
      return;
    case 'static-list': {
      t.segments.setStaticMembers(c.project, c.id, c.members);
      const segment = t.segments.get(c.project, c.id);
      // Another process may have deleted the segment since the list was accepted.
      if (!segment) return;
      const updated = { ...segment, updated_at: c.updated_at };
      t.segments.put(c.project, updated);
      await defineOnShards(t.shards, c.project, [t.segments.shardDef(c.project, updated, c.members)]);
      return;
    }
    case 'rule':
      t.segments.setRule(c.project, c.tag, c.segment);
      await t.shards({ op: 'rules', project: c.project, rules: t.segments.rules(c.project) });
      return;
    case 'event':
      t.definitions.put(c.project, c.definition);
      // Segments defined loosely may already name it; those counting it count what it now is.
      await redefineEventReaders(t.shards, t.segments, c.project, c.definition.name);
      return;
    case 'event-deleted':
      t.definitions.delete(c.project, c.name);
      return;
  }
}

/** Embedded mode: the data dir holds the definitions, and a change applies at once. */
export function localDefinitions(t: DefinitionTargets): DefinitionWriter {
  return { write: (change) => applyChange(t, change) };
}
