import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Condition,
  compilePlan,
  type DefinedEventLookup,
  eventReferences,
  type Plan,
  type RuleLookup,
  type Segment,
  type SegmentLookup,
  segmentReferences,
} from '@weft/segments';
import type { DefinitionStore } from '../definitions/store.js';
import { writeFileAtomic } from '../fs/durable-files.js';
import { definedEvents } from './defined-events.js';
import type { ShardSegmentDef } from './protocol.js';

/** A subscription to the entry/exit change feed. */
export interface Webhook {
  id: string;
  url: string;
  /** Only this segment's changes; every segment's when absent. */
  segment?: string;
  created_at: number;
}

interface ProjectEntry {
  segments: Record<string, Segment>;
  /** Rule tags: tag -> the segment whose members have it. */
  rules: Record<string, string>;
  webhooks?: Record<string, Webhook>;
}

/** What a project's definitions are validated and compiled against. */
export interface DefinitionContext {
  lookup: SegmentLookup;
  events: DefinedEventLookup;
  rules: RuleLookup;
}

/**
 * Segment definitions, rule tags and static lists of every project, owned by the HTTP thread:
 * one JSON file replaced atomically on each change, plus one file per static list (they can
 * be long). Shards hold no definitions of their own; they get them from here at start.
 * Definitions count defined events (`definitions`) as what those currently stand for. In
 * Kafka mode this is each process's copy of the definitions topic (control/), except the
 * webhook subscriptions, which stay the process's own.
 */
export class SegmentStore {
  private readonly byProject: Record<string, ProjectEntry>;
  private readonly path: string;

  constructor(
    private readonly dir: string,
    private readonly definitions?: DefinitionStore,
  ) {
    this.path = join(dir, 'segments.json');
    try {
      this.byProject = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, ProjectEntry>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.byProject = {};
    }
  }

  private entry(project: string): ProjectEntry {
    this.byProject[project] ??= { segments: {}, rules: {} };
    return this.byProject[project];
  }

  projects(): string[] {
    return Object.keys(this.byProject);
  }

  list(project: string): Segment[] {
    return Object.values(this.byProject[project]?.segments ?? {}).sort((a, b) => a.created_at - b.created_at);
  }

  get(project: string, id: string): Segment | undefined {
    return this.byProject[project]?.segments[id];
  }

  lookup(project: string): SegmentLookup {
    return (id) => {
      const seg = this.get(project, id);
      if (!seg) return undefined;
      return 'definition' in seg ? { definition: seg.definition } : {};
    };
  }

  /** Segments, defined events and rule tags of the project, as definitions read them. */
  context(project: string): DefinitionContext {
    const rules = this.byProject[project]?.rules ?? {};
    return {
      lookup: this.lookup(project),
      events: definedEvents(this.definitions, project),
      rules: (tag) => (Object.hasOwn(rules, tag) ? rules[tag] : undefined),
    };
  }

  /** Changes whenever compile() may give another plan for the same condition. */
  get compileRevision(): number {
    return this.definitions?.revision ?? 0;
  }

  /** The plan shards maintain: references and tags stay leaves, defined events are expanded. */
  compile(project: string, definition: Condition): Plan {
    return compilePlan(definition, { events: definedEvents(this.definitions, project) });
  }

  /** Segments whose definitions count the event `name` (did / not_did). */
  eventReaders(project: string, name: string): Segment[] {
    return this.list(project).filter(
      (s) => 'definition' in s && eventReferences(s.definition).includes(name),
    );
  }

  /**
   * Replaces every project's segments and rule tags (Kafka mode: by what the definitions
   * topic holds at start); webhook subscriptions stay, they belong to this process.
   */
  replaceDefinitions(
    byProject: Record<string, { segments: Record<string, Segment>; rules: Record<string, string> }>,
  ): void {
    for (const project of new Set([...Object.keys(this.byProject), ...Object.keys(byProject)])) {
      const next = byProject[project] ?? { segments: {}, rules: {} };
      const webhooks = this.byProject[project]?.webhooks;
      this.byProject[project] = webhooks ? { ...next, webhooks } : next;
    }
    this.save();
  }

  put(project: string, segment: Segment): void {
    this.entry(project).segments[segment.id] = segment;
    this.save();
  }

  delete(project: string, id: string): boolean {
    const entry = this.byProject[project];
    if (!entry?.segments[id]) return false;
    delete entry.segments[id];
    this.save();
    return true;
  }

  /** Segments and rule tags that read `id`, so it cannot be deleted under them. */
  readers(project: string, id: string): string[] {
    const segs = this.list(project)
      .filter((s) => 'definition' in s && segmentReferences(s.definition).includes(id))
      .map((s) => `segment ${s.id}`);
    const tags = Object.entries(this.rules(project))
      .filter(([, seg]) => seg === id)
      .map(([tag]) => `rule tag ${tag}`);
    return [...segs, ...tags];
  }

  rules(project: string): Record<string, string> {
    return { ...(this.byProject[project]?.rules ?? {}) };
  }

  setRule(project: string, tag: string, segment: string | undefined): void {
    const rules = this.entry(project).rules;
    if (segment === undefined) delete rules[tag];
    else rules[tag] = segment;
    this.save();
  }

  webhooks(project: string): Webhook[] {
    return Object.values(this.byProject[project]?.webhooks ?? {});
  }

  putWebhook(project: string, hook: Webhook): void {
    const entry = this.entry(project);
    entry.webhooks ??= {};
    entry.webhooks[hook.id] = hook;
    this.save();
  }

  deleteWebhook(project: string, id: string): boolean {
    const hooks = this.byProject[project]?.webhooks;
    if (!hooks?.[id]) return false;
    delete hooks[id];
    this.save();
    return true;
  }

  private staticPath(project: string, id: string): string {
    return join(this.dir, 'static', encodeURIComponent(project), `${encodeURIComponent(id)}.txt`);
  }

  staticMembers(project: string, id: string): string[] {
    try {
      return readFileSync(this.staticPath(project, id), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return [];
    }
  }

  setStaticMembers(project: string, id: string, ids: readonly string[]): void {
    writeFileAtomic(this.staticPath(project, id), ids.length > 0 ? `${ids.join('\n')}\n` : '');
  }

  /** What shards maintain of one segment; a static list is read from its file unless given. */
  shardDef(project: string, seg: Segment, members?: string[]): ShardSegmentDef {
    if (seg.mode === 'static') {
      return { id: seg.id, mode: 'static', members: members ?? this.staticMembers(project, seg.id) };
    }
    return { id: seg.id, mode: seg.mode, plan: this.compile(project, seg.definition) };
  }

  /** What shards maintain, segments read (also through rule tags) before their readers. */
  shardDefs(project: string): ShardSegmentDef[] {
    const segments = this.list(project);
    const byId = new Map(segments.map((s) => [s.id, s]));
    const { rules } = this.context(project);
    const out: ShardSegmentDef[] = [];
    const placed = new Set<string>();
    const place = (seg: Segment): void => {
      if (placed.has(seg.id)) return;
      placed.add(seg.id);
      if (seg.mode !== 'static') {
        for (const ref of segmentReferences(seg.definition, rules)) {
          const target = byId.get(ref);
          if (target) place(target);
        }
      }
      out.push(this.shardDef(project, seg));
    };
    segments.forEach(place);
    return out;
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.byProject));
  }
}
