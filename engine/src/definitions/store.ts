import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/durable-files.js';
import type { WhereClause } from '../query/where.js';

/**
 * A defined event (可视化圈选): a name for the `$click` (or `$submit`, `$change`) events that
 * match some properties, e.g. an element selector on a page. Queries expand the name into
 * that event and filter, so a definition applies to all past data without a backfill.
 */
export interface Definition {
  name: string;
  event: string;
  where: WhereClause[];
  description?: string;
  created_at: number;
  updated_at: number;
}

export interface EventSpec {
  event: string;
  where?: WhereClause[];
}

export type DefinitionsByProject = Record<string, Record<string, Definition>>;

/**
 * Definitions of every project, kept in one JSON file replaced atomically on each change (in
 * Kafka mode, a copy of the definitions topic; see control/).
 */
export class DefinitionStore {
  private byProject: DefinitionsByProject;
  /** Rises on every change: what was compiled from the definitions before is stale. */
  revision = 0;

  constructor(private readonly path: string) {
    try {
      this.byProject = JSON.parse(readFileSync(path, 'utf8')) as DefinitionsByProject;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.byProject = {};
    }
  }

  projects(): string[] {
    return Object.keys(this.byProject);
  }

  list(project: string): Definition[] {
    return Object.values(this.byProject[project] ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(project: string, name: string): Definition | undefined {
    const defs = this.byProject[project];
    // Own keys only: a name like "constructor" is not a definition.
    return defs && Object.hasOwn(defs, name) ? defs[name] : undefined;
  }

  put(project: string, definition: Definition): void {
    if (!this.byProject[project]) this.byProject[project] = {};
    this.byProject[project][definition.name] = definition;
    this.save();
  }

  delete(project: string, name: string): boolean {
    const defs = this.byProject[project];
    if (!defs?.[name]) return false;
    delete defs[name];
    this.save();
    return true;
  }

  /** Replaces every project's definitions (Kafka mode: by what the definitions topic holds at start). */
  replaceAll(byProject: DefinitionsByProject): void {
    this.byProject = byProject;
    this.save();
  }

  /** Replaces defined names by the event and filters they stand for; other specs pass through. */
  expand<T extends EventSpec>(project: string, specs: readonly T[]): T[] {
    return specs.map((spec) => {
      const def = this.get(project, spec.event);
      if (!def) return spec;
      return { ...spec, event: def.event, where: [...def.where, ...(spec.where ?? [])] };
    });
  }

  private save(): void {
    this.revision++;
    writeFileAtomic(this.path, JSON.stringify(this.byProject));
  }
}
