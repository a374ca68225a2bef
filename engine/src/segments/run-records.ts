import type { LastRuns } from './last-runs.js';
import type { SizeHistory } from './size-history.js';

/**
 * Where segment sizes and runs are recorded: this data dir (embedded), or, in Kafka mode, a
 * topic every process mirrors into its own files (control/shared-runs.ts).
 */
export interface RunRecorder {
  /** A size sample; with `run`, also the segment's last run. Resolves once this process reads it back. */
  record(project: string, id: string, size: number, at: number, run: boolean): Promise<void>;
}

/** Embedded mode: straight into this data dir's files. */
export class LocalRuns implements RunRecorder {
  constructor(
    private readonly history: SizeHistory,
    private readonly runs: LastRuns,
  ) {}

  async record(project: string, id: string, size: number, at: number, run: boolean): Promise<void> {
    if (run) this.runs.record(project, id, at);
    this.history.record(project, id, size, at);
  }
}
