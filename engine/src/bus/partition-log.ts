import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  unlinkSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { FRAME_HEADER, frameHeader, scanFrames } from './frame.js';

const READ_CHUNK = 8 * 1024 * 1024;
const SEGMENT_RE = /^(\d{20})\.log$/;

export const DEFAULT_SEGMENT_BYTES = 128 * 1024 * 1024;

/** A segment file: records from byte offset `base` of the partition on. */
interface Segment {
  base: number;
  path: string;
}

function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}.log`;
}

/** The partition's segment files, oldest first. */
export function listSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const segments: Segment[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m) segments.push({ base: Number(m[1]), path: join(dir, name) });
  }
  return segments.sort((a, b) => a.base - b.base);
}

/**
 * One partition of the embedded bus: a directory of append-only segment files of framed
 * records. Offsets are byte positions in the whole partition; a record's offset is where it
 * ends, so "applied up to offset X" means every record ending at or before X. Segments roll
 * at `segmentBytes`, and whole segments below a snapshot's offset can be deleted.
 */
export class PartitionLog {
  private fd: number;
  private base: number;
  private end: number;
  private dirty = false;

  constructor(
    readonly dir: string,
    private readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
  ) {
    mkdirSync(dir, { recursive: true });
    const last = listSegments(dir).at(-1);
    this.base = last?.base ?? 0;
    this.fd = openSync(join(dir, segmentName(this.base)), 'a+');
    this.end = this.base + fstatSync(this.fd).size;
  }

  get endOffset(): number {
    return this.end;
  }

  /** Appends one record; returns the offset it ends at. Survives a process kill once this returns. */
  append(payload: Uint8Array): number {
    const total = FRAME_HEADER + payload.byteLength;
    if (this.end > this.base && this.end - this.base + total > this.segmentBytes) this.roll();
    const header = frameHeader(payload);
    let written = writevSync(this.fd, [header, payload]);
    while (written < total) {
      // Short writes are rare (disk full, signals); finish the frame or fail loudly.
      const all = Buffer.concat([header, payload]);
      written += writevSync(this.fd, [all.subarray(written)]);
    }
    this.end += total;
    this.dirty = true;
    return this.end;
  }

  /** Starts a new segment; the old one is synced first so a crash never leaves a gap. */
  private roll(): void {
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.base = this.end;
    this.fd = openSync(join(this.dir, segmentName(this.base)), 'a+');
    this.dirty = false;
  }

  /** fdatasync if anything was appended since the last sync. */
  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    fdatasyncSync(this.fd);
  }

  /** The same on the thread pool, so appends continue while the disk syncs. */
  syncAsync(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    const fd = this.fd;
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Drops a torn tail found during replay so appends continue at a frame boundary. */
  truncate(validEnd: number): void {
    if (validEnd >= this.end) return;
    if (validEnd < this.base) throw new Error(`${this.dir}: a torn tail cannot reach into a closed segment`);
    ftruncateSync(this.fd, validEnd - this.base);
    fdatasyncSync(this.fd);
    this.end = validEnd;
  }

  /** Deletes the segments holding only records that end at or before `offset`. */
  deleteBefore(offset: number): number {
    const segments = listSegments(this.dir);
    let deleted = 0;
    for (let i = 0; i + 1 < segments.length; i++) {
      // A segment ends where the next begins; the active segment is never deleted.
      if (segments[i + 1]!.base > offset) break;
      unlinkSync(segments[i]!.path);
      deleted++;
    }
    return deleted;
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }
}

/**
 * Reads the intact records of a partition from `from` (a record boundary) and returns the
 * offset where the valid data ends. Opens files read-only, so it can run in a shard worker
 * while nothing appends yet.
 */
export function replayPartition(
  dir: string,
  from: number,
  onRecord: (payload: Buffer, endOffset: number) => void,
): number {
  const segments = listSegments(dir);
  if (segments.length === 0) return from;
  if (from < segments[0]!.base) {
    throw new Error(
      `${dir}: replay from ${from} needs a deleted segment (oldest starts at ${segments[0]!.base})`,
    );
  }
  let end = from;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1]?.base ?? Number.POSITIVE_INFINITY;
    if (next <= from) continue;
    end = replaySegment(seg, Math.max(from, seg.base), onRecord);
    // A short segment before the last one means its tail was lost: nothing after it is trusted.
    if (end < next && next !== Number.POSITIVE_INFINITY) return end;
  }
  return end;
}

function replaySegment(
  seg: Segment,
  from: number,
  onRecord: (payload: Buffer, endOffset: number) => void,
): number {
  const fd = openSync(seg.path, 'r');
  try {
    const size = fstatSync(fd).size;
    let pos = from - seg.base;
    let carry = Buffer.alloc(0);
    while (pos < size || carry.length > 0) {
      const want = Math.min(READ_CHUNK, size - pos);
      const chunk = Buffer.allocUnsafe(want);
      const got = want > 0 ? readSync(fd, chunk, 0, want, pos) : 0;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
      const bufStart = seg.base + pos - carry.length;
      const valid = scanFrames(buf, (payload, endInBuf) => onRecord(payload, bufStart + endInBuf));
      pos += got;
      carry = buf.subarray(valid);
      if (got === 0) return bufStart + valid;
      if (carry.length >= FRAME_HEADER) {
        const need = FRAME_HEADER + carry.readUInt32LE(0);
        // A frame claiming more than the rest of the file is a torn tail.
        if (bufStart - seg.base + valid + need > size) return bufStart + valid;
      }
    }
    return seg.base + pos;
  } finally {
    closeSync(fd);
  }
}
