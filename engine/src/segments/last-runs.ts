import { readFileIfExists, writeFileAtomic } from '../fs/durable-files.js';

/**
 * When each segment last ran (on its schedule or by "run now"), per project, in one JSON file
 * replaced atomically on each run: after a restart the scheduler knows which cron slots are
 * done and which were missed.
 */
export class LastRuns {
  private readonly byProject: Record<string, Record<string, number>>;

  constructor(private readonly path: string) {
    this.byProject = JSON.parse(readFileIfExists(path) ?? '{}') as Record<string, Record<string, number>>;
  }

  get(project: string, id: string): number | undefined {
    return this.byProject[project]?.[id];
  }

  record(project: string, id: string, at: number): void {
    this.byProject[project] ??= {};
    this.byProject[project][id] = at;
    this.save();
  }

  /** Forgets segments that no longer exist. */
  keepOnly(exists: (project: string, id: string) => boolean): void {
    let changed = false;
    for (const [project, runs] of Object.entries(this.byProject)) {
      for (const id of Object.keys(runs)) {
        if (exists(project, id)) continue;
        delete runs[id];
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.byProject));
  }
}
