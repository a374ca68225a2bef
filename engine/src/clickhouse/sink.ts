import type { WeftEvent } from '@weft/core';
import type { ClickHouse } from './client.js';
import { type EventRow, eventRow, type IdentityRow, identityRows } from './insert.js';

/** Rows gathered before an insert is started without waiting for the timer. */
const FLUSH_ROWS = 20_000;
const FLUSH_MS = 250;
const RETRY_MS = 1000;

/**
 * The ClickHouse side of one Kafka partition's consumer: gathers rows from the records the
 * shard applies, inserts them in large batches (one insert in flight), and tracks the
 * offset below which everything is in ClickHouse — half of what may be committed.
 * Failed inserts are retried until they succeed; replayed rows collapse on merge.
 */
export class ClickHouseSink {
  private rows: EventRow[] = [];
  private links: IdentityRow[] = [];
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
    return this.rows.length;
  }

  /** The record ending at `end` is applied; `events` (if any) belong in ClickHouse. */
  add(end: number, events: readonly WeftEvent[] | undefined): void {
    if (events) {
      for (const e of events) this.rows.push(eventRow(e));
      for (const l of identityRows(events)) this.links.push(l);
    }
    this.seen = end;
    if (this.rows.length >= FLUSH_ROWS && !this.inFlight) this.start();
    else this.timer ??= setTimeout(() => this.start(), FLUSH_MS);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight) return;
    const rows = this.rows;
    const links = this.links;
    const upTo = this.seen;
    this.rows = [];
    this.links = [];
    this.inFlight = this.insert(rows, links)
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
          this.rows = rows.concat(this.rows);
          this.links = links.concat(this.links);
          if (err.message !== this.lastError)
            console.error(`weft: ClickHouse insert failed, retrying: ${err.message}`);
          this.lastError = err.message;
          return new Promise<void>((r) => setTimeout(r, RETRY_MS));
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.rows.length > 0 || this.seen > this.durable)
          this.timer ??= setTimeout(() => this.start(), 0);
      });
  }

  private async insert(rows: EventRow[], links: IdentityRow[]): Promise<void> {
    if (rows.length > 0) await this.ch.insert('events', rows);
    if (links.length > 0) await this.ch.insert('identities', links);
  }

  /**
   * Inserts everything gathered so far; resolves once it is durable in ClickHouse or the
   * deadline passed (ClickHouse down: the next owner of the partition inserts the rest).
   */
  async drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while ((this.inFlight || this.rows.length > 0 || this.seen > this.durable) && Date.now() < until) {
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
