import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { FRAME_HEADER, frameHeader, scanFrames } from './frame.js';

const READ_CHUNK = 8 * 1024 * 1024;

/**
 * One partition of the embedded bus: an append-only file of framed records. Offsets are
 * byte positions; a record's offset is where it ends, so "applied up to offset X" means
 * every record ending at or before X.
 */
export class PartitionLog {
  private fd: number;
  private end: number;
  private dirty = false;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a+');
    this.end = fstatSync(this.fd).size;
  }

  get endOffset(): number {
    return this.end;
  }

  /** Appends one record; returns the offset it ends at. Survives a process kill once this returns. */
  append(payload: Uint8Array): number {
    const header = frameHeader(payload);
    const total = FRAME_HEADER + payload.byteLength;
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
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Drops a torn tail found during replay so appends continue at a frame boundary. */
  truncate(validEnd: number): void {
    if (validEnd >= this.end) return;
    ftruncateSync(this.fd, validEnd);
    fdatasyncSync(this.fd);
    this.end = validEnd;
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }
}

/**
 * Reads the intact records of a partition file from `from` (a record boundary) and
 * returns the offset where the valid data ends. Opens the file read-only, so it can run
 * in a shard worker while nothing appends yet.
 */
export function replayPartition(
  path: string,
  from: number,
  onRecord: (payload: Buffer, endOffset: number) => void,
): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    let pos = from;
    let carry = Buffer.alloc(0);
    while (pos < size || carry.length > 0) {
      const want = Math.min(READ_CHUNK, size - pos);
      const chunk = Buffer.allocUnsafe(want);
      const got = want > 0 ? readSync(fd, chunk, 0, want, pos) : 0;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
      const base = pos - carry.length;
      const valid = scanFrames(buf, (payload, endInBuf) => onRecord(payload, base + endInBuf));
      pos += got;
      carry = buf.subarray(valid);
      if (got === 0) return base + valid;
      if (carry.length > 0 && carry.length >= FRAME_HEADER) {
        const need = FRAME_HEADER + carry.readUInt32LE(0);
        // A frame claiming more than the rest of the file is a torn tail.
        if (base + valid + need > size) return base + valid;
      }
    }
    return pos;
  } finally {
    closeSync(fd);
  }
}
