import { join } from 'node:path';
import type { FsyncPolicy } from '@weft/core';
import { PartitionLog } from './partition-log.js';

/** Where partition `p` of the embedded bus lives inside the data directory. */
export function partitionPath(dataDir: string, partition: number): string {
  return join(dataDir, 'log', `partition-${partition}.log`);
}

/** The producer side of the bus, as the ingest worker sees it. */
export interface BusWriter {
  readonly partitions: number;
  /** Appends a record to a partition; returns the offset the record ends at. */
  append(partition: number, payload: Uint8Array): number;
  /** Resolves once everything appended so far is as durable as the policy promises. */
  commit(): Promise<void> | undefined;
  close(): void;
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
  private groupCommit: Promise<void> | undefined;

  constructor(
    dataDir: string,
    readonly partitions: number,
    private readonly policy: FsyncPolicy,
    fsyncIntervalMs: number,
    validEnds: readonly number[],
  ) {
    this.logs = [];
    for (let p = 0; p < partitions; p++) {
      const log = new PartitionLog(partitionPath(dataDir, p));
      log.truncate(validEnds[p] ?? 0);
      this.logs.push(log);
    }
    if (policy === 'interval') {
      this.timer = setInterval(() => this.syncAll(), fsyncIntervalMs);
      this.timer.unref();
    }
  }

  append(partition: number, payload: Uint8Array): number {
    return this.logs[partition]!.append(payload);
  }

  commit(): Promise<void> | undefined {
    if (this.policy !== 'always') return undefined;
    if (!this.groupCommit) {
      this.groupCommit = new Promise((resolve, reject) => {
        setImmediate(() => {
          this.groupCommit = undefined;
          try {
            this.syncAll();
            resolve();
          } catch (err) {
            reject(err);
          }
        });
      });
    }
    return this.groupCommit;
  }

  private syncAll(): void {
    for (const log of this.logs) log.sync();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const log of this.logs) log.close();
  }
}
