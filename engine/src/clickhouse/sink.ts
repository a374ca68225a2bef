import type { EventRecord } from '../bus/event-codec.js';
import type { ClickHouse } from './client.js';
import type { IdentityRow } from './insert.js';
import { ROW_COLUMNS, recordRowBinary } from './record-rowbinary.js';

/** Rows gathered before an insert starts without waiting for the timer, and most rows per insert. */
const FLUSH_ROWS = 20_000;
const MAX_INSERT_ROWS = 100_000;
const FLUSH_MS = 250;
const RETRY_MS = 1000;

/** Lines of one record, and the offset just past it. */
interface Chunk {
  bytes: Buffer;
  rows: number;
  end: number;
}

/**
 * The ClickHouse side of one Kafka partition's consumer: gathers rows (RowBinary, written
 * straight from the records) from what the shard applies, and the `identities` rows of the
 * persons those records changed, inserts them in large batches (one insert in flight,
 * bounded so progress is steady), and tracks the offset below which everything is in
 * ClickHouse — half of what may be committed. Failed inserts are retried until they
 * succeed; replayed rows collapse on merge.
 */
export class ClickHouseSink {
  private chunks: Chunk[] = [];
  private persons: IdentityRow[] = [];
  private rows = 0;
  /** Offset just past the last record handed to `add`. */
  private seen = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastError = '';
  /** Everything below this offset is in ClickHouse (or needs nothing there). */
  durable: number;

  constructor(
    private readonly ch: ClickHouse,
    from: number,
    private readonly onDurable: () => void,
  ) {
    this.durable = from;
    this.seen = from;
  }

  /** Rows waiting for an insert; the shard slows its consumer while this is large. */
  get backlog(): number {
    return this.rows;
  }

  /**
   * The record ending at `end` is applied; its events (if given) and the mapping rows of the
   * persons it changed (if any) belong in ClickHouse.
   */
  add(end: number, record: EventRecord | undefined, persons?: readonly IdentityRow[]): void {
    if (record && record.count > 0) {
      this.chunks.push({ bytes: recordRowBinary(record), rows: record.count, end });
      this.rows += record.count;
    }
    if (persons) for (const p of persons) this.persons.push(p);
    this.seen = end;
    if (this.rows >= FLUSH_ROWS && !this.inFlight) this.start();
    else this.timer ??= setTimeout(() => this.start(), FLUSH_MS);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight) return;
    let take = 0;
    let rows = 0;
    while (take < this.chunks.length && rows < MAX_INSERT_ROWS) rows += this.chunks[take++]!.rows;
    const chunks = this.chunks.splice(0, take);
    // All gathered: everything seen is covered (records with no rows too); else up to the last chunk.
    const upTo = this.chunks.length === 0 ? this.seen : chunks[chunks.length - 1]!.end;
    const persons = this.persons;
    this.persons = [];
    this.rows -= rows;
    this.inFlight = this.insert(chunks, persons)
      .then(
        () => {
          this.lastError = '';
          if (upTo > this.durable) {
            this.durable = upTo;
            this.onDurable();
          }
        },
        (err: Error) => {
          // Keep the rows (ahead of newer ones) and try again: nothing is committed past them.
          this.chunks = chunks.concat(this.chunks);
          this.persons = persons.concat(this.persons);
          this.rows += rows;
          if (err.message !== this.lastError)
            console.error(`weft: ClickHouse insert failed, retrying: ${err.message}`);
          this.lastError = err.message;
          return new Promise<void>((r) => setTimeout(r, RETRY_MS));
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.rows > 0 || this.persons.length > 0 || this.seen > this.durable)
          this.timer ??= setTimeout(() => this.start(), 0);
      });
  }

  private async insert(chunks: Chunk[], persons: IdentityRow[]): Promise<void> {
    if (chunks.length > 0)
      await this.ch.insertRowBinary(
        'events',
        ROW_COLUMNS,
        chunks.map((c) => c.bytes),
      );
    if (persons.length > 0) await this.ch.insert('identities', persons);
  }

  /**
   * Inserts everything gathered so far; resolves once it is durable in ClickHouse or the
   * deadline passed (ClickHouse down: the next owner of the partition inserts the rest).
   */
  async drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (
      (this.inFlight || this.rows > 0 || this.persons.length > 0 || this.seen > this.durable) &&
      Date.now() < until
    ) {
      if (!this.inFlight) this.start();
      await this.inFlight;
    }
  }

  async close(deadlineMs: number): Promise<void> {
    await this.drain(deadlineMs);
    if (this.timer) clearTimeout(this.timer);
    await this.ch.close();
  }
}
