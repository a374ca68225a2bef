import { nextRun, parseCron, type Segment } from '@weft/segments';
import type { LastRuns } from './last-runs.js';
import type { RunRecorder } from './run-records.js';
import { type ShardQueries, sumShards } from './shard-calls.js';
import type { SegmentStore } from './store.js';

export interface SchedulerOptions {
  now?: () => number;
  /**
   * Whether this process runs the schedule now. Kafka mode: only the owner of partition 0,
   * so a slot runs once however many processes there are; the others learn of its runs from
   * the runs topic and take over with them when the partition moves.
   */
  leads?: () => boolean;
}

const CHECK_MS = 15_000;
const SAMPLE_MS = 3_600_000;

/**
 * Runs scheduled segments on their cron schedules (read in each segment's time zone) and
 * samples every segment's size hourly for its size history. A segment is due at the first
 * slot after its last run (durable, in LastRuns) or its last edit, so a restart neither
 * repeats a slot that ran nor skips one missed while down: that one runs once, at start.
 * It looks every few seconds rather than arming one long timer per segment, so edits and
 * deletes need no bookkeeping.
 */
export class SegmentScheduler {
  private readonly timer: NodeJS.Timeout;
  private checking: Promise<void> | undefined;
  private sampledAt = 0;
  private stopped = false;
  private readonly now: () => number;
  private readonly leads: () => boolean;

  constructor(
    private readonly engine: ShardQueries,
    private readonly store: SegmentStore,
    private readonly runs: LastRuns,
    private readonly recorder: RunRecorder,
    options: SchedulerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.leads = options.leads ?? (() => true);
    runs.keepOnly((project, id) => store.get(project, id) !== undefined);
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref();
    void this.check();
  }

  /** The first slot after the segment's last run or edit. */
  nextRunAt(project: string, seg: Extract<Segment, { mode: 'scheduled' }>): number {
    const since = Math.max(this.runs.get(project, seg.id) ?? 0, seg.updated_at);
    return nextRun(parseCron(seg.schedule), since, seg.tz);
  }

  /** What GET of a segment shows of its runs. */
  runInfo(project: string, seg: Segment): { last_run_at: number | null; next_run_at?: number } {
    const last = this.runs.get(project, seg.id) ?? null;
    return seg.mode === 'scheduled'
      ? { last_run_at: last, next_run_at: this.nextRunAt(project, seg) }
      : { last_run_at: last };
  }

  /** Runs what is due; a check already under way is joined rather than doubled. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (!this.leads()) return;
    try {
      const now = this.now();
      for (const project of this.store.projects()) {
        for (const seg of this.store.list(project)) {
          if (seg.mode !== 'scheduled' || this.nextRunAt(project, seg) > now) continue;
          const size = await sumShards(this.engine, { op: 'run', project, id: seg.id });
          if (this.stopped) return;
          await this.recorder.record(project, seg.id, size, now, true);
        }
      }
      if (now - this.sampledAt >= SAMPLE_MS) {
        this.sampledAt = now;
        for (const project of this.store.projects()) {
          for (const seg of this.store.list(project)) {
            const size = await sumShards(this.engine, { op: 'size', project, id: seg.id });
            if (this.stopped) return;
            await this.recorder.record(project, seg.id, size, now, false);
          }
        }
      }
    } catch (err) {
      console.error('weft: a scheduled segment run failed', err);
    }
  }

  /** Stops checking; a check under way records nothing more (an unrecorded run runs again at start). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
