import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listSegments, PartitionLog, replayPartition } from '../../src/bus/partition-log.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-log-'));
  dirs.push(dir);
  return join(dir, 'partition-0');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function readAll(dir: string, from = 0) {
  const records: Array<[string, number]> = [];
  const end = replayPartition(dir, from, (payload, offset) => records.push([payload.toString(), offset]));
  return { records, end };
}

const lastSegment = (dir: string) => listSegments(dir).at(-1)!.path;

describe('PartitionLog', () => {
  it('replays what was appended, with end offsets, from any record boundary', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir);
    const ends = ['a', 'bb', 'ccc'].map((s) => log.append(Buffer.from(s)));
    log.close();
    expect(readAll(dir).records).toEqual([
      ['a', ends[0]],
      ['bb', ends[1]],
      ['ccc', ends[2]],
    ]);
    expect(readAll(dir, ends[0]).records.map(([s]) => s)).toEqual(['bb', 'ccc']);
    expect(readAll(dir).end).toBe(ends[2]);
  });

  it('stops at a torn tail and appends continue after truncation', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir);
    const end = log.append(Buffer.from('kept'));
    log.close();
    appendFileSync(lastSegment(dir), Buffer.from([9, 0, 0, 0, 1, 2])); // half a frame header, as a kill mid-write leaves
    const { records, end: valid } = readAll(dir);
    expect(records.map(([s]) => s)).toEqual(['kept']);
    expect(valid).toBe(end);
    const reopened = new PartitionLog(dir);
    reopened.truncate(valid);
    reopened.append(Buffer.from('next'));
    reopened.close();
    expect(readAll(dir).records.map(([s]) => s)).toEqual(['kept', 'next']);
  });

  it('treats a record with a bad checksum as the end of the log', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir);
    const first = log.append(Buffer.from('good'));
    log.append(Buffer.from('flipped'));
    log.close();
    const bytes = readFileSync(lastSegment(dir));
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(lastSegment(dir), bytes);
    const { records, end } = readAll(dir);
    expect(records.map(([s]) => s)).toEqual(['good']);
    expect(end).toBe(first);
  });

  it('reads records larger than its read chunk and a missing partition as empty', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir);
    const big = Buffer.alloc(9 * 1024 * 1024, 7);
    log.append(big);
    log.append(Buffer.from('after'));
    log.close();
    const sizes: number[] = [];
    replayPartition(dir, 0, (p) => sizes.push(p.length));
    expect(sizes).toEqual([big.length, 5]);
    expect(replayPartition(`${dir}-missing`, 0, () => {})).toBe(0);
  });

  it('rolls segments, replays across them, and deletes only what a consumer released', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 64);
    const ends: number[] = [];
    for (let i = 0; i < 20; i++)
      ends.push(log.append(Buffer.from(`record-${String(i).padStart(2, '0')}-xxxxxxxx`)));
    expect(listSegments(dir).length).toBeGreaterThan(5);
    expect(readAll(dir).records.map(([, end]) => end)).toEqual(ends);
    expect(readAll(dir, ends[12]!).records.map(([s]) => s)[0]).toBe('record-13-xxxxxxxx');

    const before = listSegments(dir).length;
    log.deleteBefore(ends[12]!);
    const after = listSegments(dir);
    expect(after.length).toBeLessThan(before);
    expect(after[0]!.base).toBeLessThanOrEqual(ends[12]!);
    // Everything from the released offset on is still there, and appends go on.
    expect(readAll(dir, ends[12]!).records.length).toBe(7);
    log.append(Buffer.from('tail'));
    log.close();
    expect(readAll(dir, ends[19]!).records.map(([s]) => s)).toEqual(['tail']);
    expect(() => readAll(dir, 0)).toThrow(/deleted segment/);
    // Reopening continues in the last segment at the right offset.
    const again = new PartitionLog(dir, 64);
    expect(again.endOffset).toBe(readAll(dir, ends[12]!).end);
    again.close();
  });
});
