import { crc32 } from 'node:zlib';

/** Each log record is framed as [u32 payload length][u32 crc32 of payload][payload], little-endian. */
export const FRAME_HEADER = 8;

export function frameHeader(payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER);
  header.writeUInt32LE(payload.byteLength, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return header;
}

/**
 * Walks the complete, intact frames of `buf` (which starts at a frame boundary) and returns
 * the length of the valid prefix. A short or corrupt frame ends the walk: it is a torn tail.
 */
export function scanFrames(buf: Buffer, onPayload: (payload: Buffer, endInBuf: number) => void): number {
  let pos = 0;
  while (pos + FRAME_HEADER <= buf.length) {
    const len = buf.readUInt32LE(pos);
    const end = pos + FRAME_HEADER + len;
    if (end > buf.length) break;
    const payload = buf.subarray(pos + FRAME_HEADER, end);
    if (crc32(payload) !== buf.readUInt32LE(pos + 4)) break;
    onPayload(payload, end);
    pos = end;
  }
  return pos;
}
