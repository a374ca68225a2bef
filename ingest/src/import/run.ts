import { type IngestLimits, WeftError, type WeftEvent } from '@weft/core';
import { type NormalizeContext, normalizeEvent } from '../normalize/event.js';
import type { ImportMapping } from './mapping.js';
import { type ImportRow, rowReader } from './rows.js';

export interface ImportRejection {
  line: number;
  reason: string;
}

export interface ImportResult {
  accepted: number;
  /** The first MAX_REPORTED rejections; rejected_count has them all. */
  rejected: ImportRejection[];
  rejected_count: number;
}

export interface ImportTarget {
  project: string;
  receivedAt: number;
  limits: IngestLimits;
  /** Resolves after the durable hand-off; awaited before reading on (back-pressure). */
  publish(events: WeftEvent[]): Promise<void>;
}

const PUBLISH_CHUNK = 5000;
const MAX_REPORTED = 1000;

/**
 * Streams an import body (CSV or NDJSON bytes) through the row reader and normalizeEvent,
 * publishing accepted events in chunks. Bad rows are reported and never stop the import.
 */
export async function runImport(
  body: AsyncIterable<Uint8Array | string>,
  mapping: ImportMapping,
  target: ImportTarget,
): Promise<ImportResult> {
  const decoder = new TextDecoder();
  const reader = rowReader(mapping);
  const sink = new ImportSink(target);
  for await (const chunk of body) {
    await sink.add(reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
  }
  await sink.add(reader.push(decoder.decode()));
  await sink.add(reader.end());
  await sink.flush();
  return sink.result();
}

class ImportSink {
  private readonly ctx: NormalizeContext;
  private pending: WeftEvent[] = [];
  private accepted = 0;
  private readonly rejected: ImportRejection[] = [];
  private rejectedCount = 0;

  constructor(private readonly target: ImportTarget) {
    // No ip/user agent: they would describe the importer, not the historical visitor.
    this.ctx = { project: target.project, receivedAt: target.receivedAt, skewMs: 0, limits: target.limits };
  }

  async add(rows: ImportRow[]): Promise<void> {
    for (const row of rows) {
      const event = typeof row.event === 'string' ? row.event : normalizeEvent(row.event, this.ctx);
      if (typeof event === 'string') {
        this.rejectedCount++;
        if (this.rejected.length < MAX_REPORTED) this.rejected.push({ line: row.line, reason: event });
        continue;
      }
      this.pending.push(event);
      if (this.pending.length >= PUBLISH_CHUNK) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    try {
      await this.target.publish(events);
    } catch (err) {
      // Events before this chunk are durable: tell the client how far the import got.
      if (!(err instanceof WeftError)) throw err;
      const message = `${err.message} (import stopped after ${this.accepted} accepted events)`;
      throw new WeftError(err.code, message, { accepted: this.accepted }, err.retryAfter);
    }
    this.accepted += events.length;
  }

  result(): ImportResult {
    return { accepted: this.accepted, rejected: this.rejected, rejected_count: this.rejectedCount };
  }
}
