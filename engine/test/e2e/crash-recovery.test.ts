import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countEvents, postBatch, startServerProcess } from './server-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const BATCHES = 400;
const PER_BATCH = 100;
const T = Date.UTC(2026, 0, 15);

function batch(b: number) {
  return Array.from({ length: PER_BATCH }, (_, i) => ({
    event_id: `crash-${b}-${i}`,
    event: 'crash_test',
    distinct_id: `user-${(b * 7 + i) % 997}`,
    time: T + b * 1000 + i,
    properties: { b, i, kind: i % 3 === 0 ? 'a' : 'b' },
  }));
}

describe('SIGKILL mid-stream', () => {
  it('loses no acknowledged event and, with client retries, counts every event exactly once', async () => {
    // Frequent snapshots and small log segments, so the kill lands between snapshot and log
    // tail, and segments a snapshot covered are deleted while events keep coming.
    const env = { WEFT_SNAPSHOT_INTERVAL_MS: '150', WEFT_LOG_SEGMENT_BYTES: '65536' };
    const first = await startServerProcess(dataDir, env);
    const acked = new Set<number>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      // Senders pause near the end, so the kill lands mid-stream even when a busy machine starves
      // the loop below that waits to kill.
      while (next < BATCHES && !killed) {
        if (acked.size >= BATCHES * 0.9) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const b = next++;
        try {
          const res = await postBatch(first.url, batch(b));
          if (res.status === 200) acked.add(b);
        } catch {
          // Connection cut by the kill: this batch is unacknowledged and will be retried.
        }
      }
    };
    const senders = Array.from({ length: 8 }, worker);
    while (acked.size < BATCHES / 2) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    await first.stop('SIGKILL');
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThan(0);
    expect(acked.size).toBeLessThan(BATCHES);

    const second = await startServerProcess(dataDir, env);
    try {
      const afterRestart = await countEvents(second.url, 'crash_test');
      // Everything acknowledged survived; unacknowledged batches may or may not have landed.
      expect(afterRestart).toBeGreaterThanOrEqual(acked.size * PER_BATCH);
      // Clients retry what was not acknowledged, including batches that did land: dedup by event_id.
      for (let b = 0; b < BATCHES; b++) {
        if (acked.has(b)) continue;
        const res = await postBatch(second.url, batch(b));
        expect(res.status).toBe(200);
      }
      // A retried acknowledged batch counts once too.
      await postBatch(second.url, batch(0));
      expect(await countEvents(second.url, 'crash_test')).toBe(BATCHES * PER_BATCH);
      expect(await countEvents(second.url, 'crash_test', 'uniques')).toBe(997);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }

    // Retention ran: the first segment of each partition is gone, yet nothing was lost.
    for (const p of [0, 1]) {
      expect(existsSync(join(dataDir, 'log', `partition-${p}`, `${'0'.repeat(20)}.log`))).toBe(false);
    }

    // A clean stop snapshots; the next start answers the same from snapshot alone.
    const third = await startServerProcess(dataDir, env);
    try {
      expect(await countEvents(third.url, 'crash_test')).toBe(BATCHES * PER_BATCH);
    } finally {
      await third.stop('SIGKILL');
    }
  });
});
