import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Segment } from '@weft/segments';
import { afterEach, describe, expect, it } from 'vitest';
import { LastRuns } from '../../src/segments/last-runs.js';
import type { SegmentRequest } from '../../src/segments/protocol.js';
import { LocalRuns } from '../../src/segments/run-records.js';
import { SegmentScheduler } from '../../src/segments/scheduler.js';
import type { ShardQueries } from '../../src/segments/shard-calls.js';
import { SizeHistory } from '../../src/segments/size-history.js';
import { SegmentStore } from '../../src/segments/store.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** 2026-01-10 05:00 UTC; the segment runs daily at 05:30. */
const T0 = Date.UTC(2026, 0, 10, 5, 0);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-scheduler-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A scheduled segment that runs daily at 05:30 UTC, last edited three days before T0. */
function dailyAt0530(id: string): Segment {
  return {
    id,
    name: id,
    mode: 'scheduled',
    definition: { did: 'visit' },
    schedule: '30 5 * * *',
    tz: 'UTC',
    created_at: T0 - 3 * DAY,
    updated_at: T0 - 3 * DAY,
  };
}

/** Shards that count the runs they are asked for. */
class CountingShards implements ShardQueries {
  readonly runs: number[] = [];
  constructor(private readonly clock: { t: number }) {}
  async queryShards<T>(_kind: string, args: unknown): Promise<T[]> {
    if ((args as SegmentRequest).op === 'run') this.runs.push(this.clock.t);
    return [3] as T[];
  }
}

describe('segment scheduler', () => {
  it('runs each cron slot once across restarts, and a slot missed while down once at start', async () => {
    const dir = tempDir();
    const clock = { t: T0 };
    const shards = new CountingShards(clock);
    const store = new SegmentStore(dir);
    const seg = dailyAt0530('seg_daily');
    store.put('p', seg);
    const history = new SizeHistory(join(dir, 'sizes.ndjson'));
    const start = (): SegmentScheduler => {
      const runs = new LastRuns(join(dir, 'last-runs.json'));
      return new SegmentScheduler(shards, store, runs, new LocalRuns(history, runs), { now: () => clock.t });
    };

    // Never ran, and yesterday's 05:30 passed since its creation: one catch-up run at start.
    let scheduler = start();
    await scheduler.check();
    await scheduler.check();
    expect(shards.runs).toEqual([T0]);
    clock.t = T0 + 30 * MINUTE + 10_000;
    await scheduler.check();
    await scheduler.check();
    expect(shards.runs).toEqual([T0, T0 + 30 * MINUTE + 10_000]);
    expect(scheduler.runInfo('p', seg)).toEqual({
      last_run_at: T0 + 30 * MINUTE + 10_000,
      next_run_at: T0 + DAY + 30 * MINUTE,
    });
    scheduler.stop();

    // A restart a minute later: today's slot ran, so nothing runs.
    clock.t += MINUTE;
    scheduler = start();
    await scheduler.check();
    expect(shards.runs).toHaveLength(2);
    expect(scheduler.runInfo('p', seg).last_run_at).toBe(T0 + 30 * MINUTE + 10_000);
    scheduler.stop();

    // Down for three days: the missed slots run once at start, not three times.
    clock.t = T0 + 3 * DAY + 6 * 60 * MINUTE;
    scheduler = start();
    await scheduler.check();
    await scheduler.check();
    expect(shards.runs).toEqual([T0, T0 + 30 * MINUTE + 10_000, T0 + 3 * DAY + 6 * 60 * MINUTE]);
    expect(scheduler.runInfo('p', seg).next_run_at).toBe(T0 + 4 * DAY + 30 * MINUTE);
    scheduler.stop();
  });

  it('counts "run now" as the last run, and forgets deleted segments', async () => {
    const dir = tempDir();
    const clock = { t: T0 };
    const store = new SegmentStore(dir);
    const seg: Segment = {
      id: 'seg_rt',
      name: 'rt',
      mode: 'realtime',
      definition: { did: 'visit' },
      created_at: T0,
      updated_at: T0,
    };
    store.put('p', seg);
    const runsPath = join(dir, 'last-runs.json');
    const history = new SizeHistory(join(dir, 'sizes.ndjson'));
    const runs = new LastRuns(runsPath);
    const recorder = new LocalRuns(history, runs);
    const scheduler = new SegmentScheduler(new CountingShards(clock), store, runs, recorder, {
      now: () => clock.t,
    });
    expect(scheduler.runInfo('p', seg)).toEqual({ last_run_at: null });
    await recorder.record('p', seg.id, 3, clock.t, true);
    scheduler.stop();
    expect(new LastRuns(runsPath).get('p', seg.id)).toBe(T0);
    expect(history.list('p', seg.id)).toEqual([{ t: T0, size: 3 }]);
    store.delete('p', seg.id);
    const after = new LastRuns(runsPath);
    new SegmentScheduler(new CountingShards(clock), store, after, new LocalRuns(history, after)).stop();
    expect(new LastRuns(runsPath).get('p', seg.id)).toBeUndefined();
  });

  it('runs nothing and samples nothing while another process leads the schedule', async () => {
    const dir = tempDir();
    const clock = { t: T0 };
    const shards = new CountingShards(clock);
    const store = new SegmentStore(dir);
    store.put('p', dailyAt0530('seg_due'));
    const history = new SizeHistory(join(dir, 'sizes.ndjson'));
    const runs = new LastRuns(join(dir, 'last-runs.json'));
    const leading = { now: false };
    const scheduler = new SegmentScheduler(shards, store, runs, new LocalRuns(history, runs), {
      now: () => clock.t,
      leads: () => leading.now,
    });
    await scheduler.check();
    expect(shards.runs).toEqual([]);
    expect(history.list('p', 'seg_due')).toEqual([]);
    // The partition moved here: the slot missed meanwhile runs once, and sizes are sampled.
    leading.now = true;
    await scheduler.check();
    expect(shards.runs).toEqual([T0]);
    expect(history.list('p', 'seg_due')).toEqual([
      { t: T0, size: 3 },
      { t: T0, size: 3 },
    ]);
    scheduler.stop();
  });
});
