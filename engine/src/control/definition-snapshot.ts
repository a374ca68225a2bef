import type { Segment } from '@weft/segments';
import type { DefinitionsByProject } from '../definitions/store.js';
import type { DefinitionChange, DefinitionTargets } from './definition-change.js';

type Stores = Pick<DefinitionTargets, 'segments' | 'definitions'>;

/**
 * Replaces what the stores hold by the result of `changes` (the definitions topic read from
 * its start): local files may be stale, since changes were made while this process was away.
 * One write per store, not one per change.
 */
export function loadChanges(t: Stores, changes: Iterable<DefinitionChange>): void {
  const projects: Record<string, { segments: Record<string, Segment>; rules: Record<string, string> }> = {};
  const events: DefinitionsByProject = {};
  const lists = new Map<string, Extract<DefinitionChange, { type: 'static-list' }>>();
  const of = (project: string) => (projects[project] ??= { segments: {}, rules: {} });
  for (const c of changes) {
    switch (c.type) {
      case 'segment':
        of(c.project).segments[c.segment.id] = c.segment;
        break;
      case 'segment-deleted':
        delete of(c.project).segments[c.id];
        break;
      case 'static-list': {
        lists.set(JSON.stringify([c.project, c.id]), c);
        const segment = of(c.project).segments[c.id];
        if (segment) of(c.project).segments[c.id] = { ...segment, updated_at: c.updated_at };
        break;
      }
      case 'rule':
        if (c.segment === undefined) delete of(c.project).rules[c.tag];
        else of(c.project).rules[c.tag] = c.segment;
        break;
      case 'event':
        events[c.project] = { ...events[c.project], [c.definition.name]: c.definition };
        break;
      case 'event-deleted':
        delete events[c.project]?.[c.name];
        break;
    }
  }
  t.segments.replaceDefinitions(projects);
  t.definitions.replaceAll(events);
  for (const [project, { segments }] of Object.entries(projects)) {
    for (const seg of Object.values(segments)) {
      if (seg.mode !== 'static') continue;
      t.segments.setStaticMembers(
        project,
        seg.id,
        lists.get(JSON.stringify([project, seg.id]))?.members ?? [],
      );
    }
  }
}

/**
 * The changes that recreate what the stores hold, read segments before their readers: they
 * seed a definitions topic never written to from a process that kept definitions in its
 * data dir before (so an upgrade to shared definitions loses none).
 */
export function storedChanges(t: Stores): DefinitionChange[] {
  const out: DefinitionChange[] = [];
  const projects = new Set([...t.definitions.projects(), ...t.segments.projects()]);
  for (const project of projects) {
    for (const definition of t.definitions.list(project)) out.push({ type: 'event', project, definition });
    for (const { id } of t.segments.shardDefs(project)) {
      const segment = t.segments.get(project, id)!;
      out.push({ type: 'segment', project, segment });
      if (segment.mode === 'static') {
        const members = t.segments.staticMembers(project, id);
        out.push({ type: 'static-list', project, id, members, updated_at: segment.updated_at });
      }
    }
    for (const [tag, segment] of Object.entries(t.segments.rules(project)))
      out.push({ type: 'rule', project, tag, segment });
  }
  return out;
}
