import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionLog, replayPartition } from '../../src/bus/partition-log.js';

const dirs: string[] = [];
function tempLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-log-'));
  dirs.push(dir);
  return join(dir, 'p.log');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function readAll(path: string, from = 0) {
  const records: Array<[string, number]> = [];
  const end = replayPartition(path, from, (payload, offset) => records.push([payload.toString(), offset]));
  return { records, end };
}

describe('PartitionLog', () => {
  it('replays what was appended, with end offsets, from any record boundary', () => {
    const path = tempLog();
    const log = new PartitionLog(path);
    const ends = ['a', 'bb', 'ccc'].map((s) => log.append(Buffer.from(s)));
    log.close();
    expect(readAll(path).records).toEqual([
      ['a', ends[0]],
      ['bb', ends[1]],
      ['ccc', ends[2]],
    ]);
    expect(readAll(path, ends[0]).records.map(([s]) => s)).toEqual(['bb', 'ccc']);
    expect(readAll(path).end).toBe(ends[2]);
  });

  it('stops at a torn tail and appends continue after truncation', () => {
    const path = tempLog();
    const log = new PartitionLog(path);
    const end = log.append(Buffer.from('kept'));
    log.close();
    appendFileSync(path, Buffer.from([9, 0, 0, 0, 1, 2])); // half a frame header, as a kill mid-write leaves
    const { records, end: valid } = readAll(path);
    expect(records.map(([s]) => s)).toEqual(['kept']);
    expect(valid).toBe(end);
    const reopened = new PartitionLog(path);
    reopened.truncate(valid);
    reopened.append(Buffer.from('next'));
    reopened.close();
    expect(readAll(path).records.map(([s]) => s)).toEqual(['kept', 'next']);
  });

  it('treats a record with a bad checksum as the end of the log', () => {
    const path = tempLog();
    const log = new PartitionLog(path);
    const first = log.append(Buffer.from('good'));
    log.append(Buffer.from('flipped'));
    log.close();
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    const { records, end } = readAll(path);
    expect(records.map(([s]) => s)).toEqual(['good']);
    expect(end).toBe(first);
  });

  it('reads records larger than its read chunk and a missing file as empty', () => {
    const path = tempLog();
    const log = new PartitionLog(path);
    const big = Buffer.alloc(9 * 1024 * 1024, 7);
    log.append(big);
    log.append(Buffer.from('after'));
    log.close();
    const sizes: number[] = [];
    replayPartition(path, 0, (p) => sizes.push(p.length));
    expect(sizes).toEqual([big.length, 5]);
    expect(replayPartition(`${path}.missing`, 0, () => {})).toBe(0);
  });
});
