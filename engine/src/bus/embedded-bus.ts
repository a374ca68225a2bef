import { join } from 'node:path';
import type { FsyncPolicy } from '@weft/core';
import { PartitionLog } from './partition-log.js';

/** Where partition `p` of the embedded bus lives inside the data directory (a folder of segments). */
export function partitionPath(dataDir: string, partition: number): string {
  return join(dataDir, 'log', `partition-${partition}`);
}

/** The producer side of the bus, as the ingest worker sees it. */
export interface BusWriter {
  readonly partitions: number;
  /** Queues a record for a partition (written or sent; durable once `commit` says so). */
  append(partition: number, payload: Uint8Array): void;
  /** Offset just past the partition's last record known written (for read-your-writes). */
  endOffset(partition: number): number;
  /** Frees log space a consumer no longer needs: everything ending at or before `offset`. */
  release(partition: number, offset: number): void;
  /** Resolves once everything appended so far is as durable as the policy promises. */
  commit(): Promise<void> | undefined;
  close(): void | Promise<void>;
}

/**
 * The embedded bus: one append-only file per partition. A write(2) completes before an
 * ack, so a killed process loses nothing; fsync policy decides what a power loss may take:
 * `always` acks after fdatasync (batches arriving together share one), `interval` syncs
 * every fsyncIntervalMs, `none` leaves it to the OS.
 */
export class EmbeddedBus implements BusWriter {
  private readonly logs: PartitionLog[];
  private timer: NodeJS.Timeout | undefined;
  private nextSync: Promise<void> | undefined;
  private runningSync: Promise<void> | undefined;

  constructor(
    dataDir: string,
    readonly partitions: number,
    private readonly policy: FsyncPolicy,
    fsyncIntervalMs: number,
    validEnds: readonly number[],
    segmentBytes: number,
  ) {
    this.logs = [];
    for (let p = 0; p < partitions; p++) {
      const log = new PartitionLog(partitionPath(dataDir, p), segmentBytes);
      log.truncate(validEnds[p] ?? 0);
      this.logs.push(log);
    }
    if (policy === 'interval') {
      this.timer = setInterval(() => {
        this.syncAll().catch((err: Error) => {
          // A failed fsync means the disk lost writes we acknowledged: stop rather than lie.
          console.error('weft: fdatasync failed', err);
          process.exit(74);
        });
      }, fsyncIntervalMs);
      this.timer.unref();
    }
  }

  append(partition: number, payload: Uint8Array): number {
    return this.logs[partition]!.append(payload);
  }

  endOffset(partition: number): number {
    return this.logs[partition]!.endOffset;
  }

  release(partition: number, offset: number): void {
    this.logs[partition]!.deleteBefore(offset);
  }

  commit(): Promise<void> | undefined {
    if (this.policy !== 'always') return undefined;
    // Callers join the sync that has not started yet, so it covers their writes; a sync
    // already running may have missed them, so the next one starts after it.
    if (!this.nextSync) {
      const previous = this.runningSync ?? Promise.resolve();
      this.nextSync = previous
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          this.nextSync = undefined;
          const running = this.syncAll();
          this.runningSync = running;
          return running;
        });
    }
    return this.nextSync;
  }

  private async syncAll(): Promise<void> {
    await Promise.all(this.logs.map((log) => log.syncAsync()));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const log of this.logs) log.close();
  }
}
