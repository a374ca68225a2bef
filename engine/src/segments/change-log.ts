import { closeSync, fdatasyncSync, mkdirSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openJsonLinesForAppend, readJsonLines } from '../fs/durable-files.js';
import type { SegmentChange } from './protocol.js';

/** A change with its place in the log: ids rise by one from 1 and are never reused. */
export interface LoggedChange extends SegmentChange {
  id: number;
}

/** The changes of one chunk with ids in (after, upTo]; `upTo` is where the next read starts. */
export interface LogRead {
  changes: LoggedChange[];
  upTo: number;
}

export interface ChangeLogOptions {
  /** Changes per chunk file; retention drops whole chunks. */
  chunkSize?: number;
  /** Chunks kept for replay once every webhook has delivered them. */
  retainedChunks?: number;
  /** Chunks kept at most, even when a webhook has not delivered them (its receiver is down for long). */
  maxChunks?: number;
}

type Line = [
  id: number,
  project: string,
  segment: string,
  distinctId: string,
  change: 'entry' | 'exit',
  at: number,
];

const NAME = /^(\d{16})\.ndjson$/;

/**
 * Every entry and exit the shards reported, numbered, in chunk files of JSON lines under the
 * data dir: what lets a reconnecting stream replay what it missed and webhooks deliver after
 * a restart. Retention is bounded: the oldest chunks go once they are beyond `retainedChunks`
 * and delivered to every webhook, or beyond `maxChunks` regardless. Appends are write(2) only;
 * sync() makes them durable before anything outside may depend on an id.
 */
export class ChangeLog {
  private readonly chunks: number[] = [];
  /** The changes of the newest chunk, the one appended to. */
  private tail: LoggedChange[] = [];
  private fd: number;
  private last: number;
  /** The sealed chunk read last: webhooks behind the tail read one chunk batch by batch. */
  private cached: { first: number; changes: LoggedChange[] } | undefined;
  private readonly chunkSize: number;
  private readonly retainedChunks: number;
  private readonly maxChunks: number;

  constructor(
    private readonly dir: string,
    options: ChangeLogOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? 10_000;
    this.retainedChunks = options.retainedChunks ?? 20;
    this.maxChunks = Math.max(this.retainedChunks, options.maxChunks ?? 100);
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      if (m) this.chunks.push(Number(m[1]));
    }
    this.chunks.sort((a, b) => a - b);
    if (this.chunks.length === 0) this.chunks.push(1);
    const first = this.chunks.at(-1)!;
    this.fd = openJsonLinesForAppend(this.path(first));
    this.tail = this.readChunk(first);
    this.last = this.tail.at(-1)?.id ?? first - 1;
  }

  /** The newest id, 0 when nothing was ever logged. */
  get lastId(): number {
    return this.last;
  }

  /** The oldest id still kept (lastId + 1 when the log is empty). */
  get oldestId(): number {
    return this.chunks[0]!;
  }

  /** Numbers and appends changes, in order. */
  append(changes: readonly SegmentChange[]): LoggedChange[] {
    const logged = changes.map((c, i): LoggedChange => ({ id: this.last + 1 + i, ...c }));
    this.keep(logged);
    return logged;
  }

  /**
   * Appends changes numbered elsewhere (Kafka mode: by their offsets in the changes topic),
   * ids rising; those at or below lastId are here already. A jump in ids (retention dropped
   * the ones between before this log read them) starts a new chunk.
   */
  mirror(changes: readonly LoggedChange[]): LoggedChange[] {
    const fresh = changes.filter((c) => c.id > this.last);
    this.keep(fresh);
    return fresh;
  }

  private keep(changes: readonly LoggedChange[]): void {
    let lines = '';
    for (const c of changes) {
      if (this.tail.length >= this.chunkSize || c.id !== this.last + 1) {
        this.write(lines);
        lines = '';
        this.roll(c.id);
      }
      const line: Line = [c.id, c.project, c.segment, c.distinct_id, c.change, c.at];
      lines += `${JSON.stringify(line)}\n`;
      this.tail.push(c);
      this.last = c.id;
    }
    this.write(lines);
  }

  /**
   * The changes with ids in (after, through] of the chunk holding `after + 1`, or undefined
   * when retention has dropped that chunk (read again from oldestId - 1).
   */
  readFrom(after: number, through = this.last): LogRead | undefined {
    if (after >= through) return { changes: [], upTo: after };
    if (after + 1 < this.oldestId) return undefined;
    let i = this.chunks.length - 1;
    while (this.chunks[i]! > after + 1) i--;
    const first = this.chunks[i]!;
    const isTail = i === this.chunks.length - 1;
    const upTo = Math.min(through, isTail ? this.last : this.chunks[i + 1]! - 1);
    let changes: LoggedChange[];
    if (isTail) changes = this.tail;
    else {
      if (this.cached?.first !== first) this.cached = { first, changes: this.readChunk(first) };
      changes = this.cached.changes;
    }
    return { changes: changes.slice(firstAbove(changes, after), firstAbove(changes, upTo)), upTo };
  }

  /** Makes every appended change durable. */
  sync(): void {
    fdatasyncSync(this.fd);
  }

  /** Drops the chunks retention no longer keeps; `delivered` is the id every webhook has delivered. */
  trim(delivered: number): void {
    while (this.chunks.length > 1) {
      const lastOfOldest = this.chunks[1]! - 1;
      const expired = this.chunks.length > this.retainedChunks && lastOfOldest <= delivered;
      if (!expired && this.chunks.length <= this.maxChunks) return;
      const first = this.chunks.shift()!;
      if (this.cached?.first === first) this.cached = undefined;
      unlinkSync(this.path(first));
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private path(first: number): string {
    return join(this.dir, `${String(first).padStart(16, '0')}.ndjson`);
  }

  private readChunk(first: number): LoggedChange[] {
    const out: LoggedChange[] = [];
    readJsonLines<Line>(this.path(first), ([id, project, segment, distinct_id, change, at]) => {
      out.push({ id, project, segment, distinct_id, change, at });
    });
    return out;
  }

  private write(lines: string): void {
    if (lines !== '') writeSync(this.fd, lines);
  }

  /** Starts a chunk at `first`; an empty tail chunk gives way to it. */
  private roll(first: number): void {
    closeSync(this.fd);
    if (this.tail.length === 0) unlinkSync(this.path(this.chunks.pop()!));
    this.chunks.push(first);
    this.fd = openJsonLinesForAppend(this.path(first));
    this.tail = [];
  }
}

/** The index of the first change with an id above `id` (ids rise through a chunk). */
function firstAbove(changes: readonly LoggedChange[], id: number): number {
  let lo = 0;
  let hi = changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (changes[mid]!.id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
