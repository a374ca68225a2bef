import type { BusWriter } from './embedded-bus.js';

/**
 * The ingest worker's bus in Kafka mode: node-rdkafka delivers its callbacks on the main
 * thread's loop only, so the worker hands the records it built to the main thread, which
 * produces them and acknowledges clients after the broker confirms.
 */
export class RelayBus implements BusWriter {
  partitionsOut: number[] = [];
  payloadsOut: Uint8Array[] = [];

  constructor(readonly partitions: number) {}

  append(partition: number, payload: Uint8Array): void {
    this.partitionsOut.push(partition);
    this.payloadsOut.push(payload);
  }

  /** The records appended since the last call, for the reply to the main thread. */
  take(): { partitions: number[]; payloads: Uint8Array[] } {
    const out = { partitions: this.partitionsOut, payloads: this.payloadsOut };
    this.partitionsOut = [];
    this.payloadsOut = [];
    return out;
  }

  /** Offsets are known on the main thread once the broker confirms. */
  endOffset(): number {
    return 0;
  }

  release(): void {}

  commit(): undefined {
    return undefined;
  }

  close(): void {}
}
