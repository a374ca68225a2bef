import { nextRun, parseCron } from '@weft/segments';
import type { Engine } from '../engine.js';
import { sumShards } from './shard-calls.js';
import type { SizeHistory } from './size-history.js';
import type { SegmentStore } from './store.js';

const CHECK_MS = 15_000;
const SAMPLE_MS = 3_600_000;

/**
 * Runs scheduled segments on their cron schedules (read in each segment's time zone) and
 * samples every segment's size hourly for its size history. It looks every few seconds rather
 * than arming one long timer per segment, so edits and deletes need no bookkeeping: the next
 * run of each segment is computed from when it was last considered.
 */
export class SegmentScheduler {
  private readonly due = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private running = false;
  private sampledAt = 0;

  constructor(
    private readonly engine: Engine,
    private readonly store: SegmentStore,
    private readonly history: SizeHistory,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref();
  }

  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.now();
      for (const project of this.store.projects()) {
        for (const seg of this.store.list(project)) {
          if (seg.mode !== 'scheduled') continue;
          const key = `${project}\n${seg.id}\n${seg.schedule}\n${seg.tz}`;
          const at = this.due.get(key) ?? nextRun(parseCron(seg.schedule), now, seg.tz);
          if (at > now) {
            this.due.set(key, at);
            continue;
          }
          const size = await sumShards(this.engine, { op: 'run', project, id: seg.id });
          this.history.record(project, seg.id, size, now);
          this.due.set(key, nextRun(parseCron(seg.schedule), now, seg.tz));
        }
      }
      if (now - this.sampledAt >= SAMPLE_MS) {
        this.sampledAt = now;
        for (const project of this.store.projects()) {
          for (const seg of this.store.list(project)) {
            this.history.record(
              project,
              seg.id,
              await sumShards(this.engine, { op: 'size', project, id: seg.id }),
              now,
            );
          }
        }
      }
    } catch (err) {
      console.error('weft: a scheduled segment run failed', err);
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
