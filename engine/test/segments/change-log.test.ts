import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeLog, type LoggedChange } from '../../src/segments/change-log.js';
import type { SegmentChange } from '../../src/segments/protocol.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-change-log-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function changes(n: number, from = 0): SegmentChange[] {
  return Array.from({ length: n }, (_, i) => ({
    project: 'p',
    segment: 's',
    distinct_id: `u${from + i}`,
    change: i % 2 === 0 ? 'entry' : 'exit',
    at: 1_000 + from + i,
  }));
}

/** Every change after `after`, read chunk by chunk as the stream and the outbox do. */
function readAll(log: ChangeLog, after: number): LoggedChange[] {
  const out: LoggedChange[] = [];
  for (let at = after; at < log.lastId; ) {
    const read = log.readFrom(at, log.lastId);
    if (!read) throw new Error(`expired after ${at}`);
    out.push(...read.changes);
    at = read.upTo;
  }
  return out;
}

describe('change log', () => {
  it('numbers changes from 1 across chunks and reopens where it stopped', () => {
    const dir = tempDir();
    const log = new ChangeLog(dir, { chunkSize: 3 });
    expect(log.lastId).toBe(0);
    expect(log.append(changes(4)).map((c) => c.id)).toEqual([1, 2, 3, 4]);
    log.append(changes(3, 4));
    log.close();
    expect(readdirSync(dir).sort()).toEqual([
      '0000000000000001.ndjson',
      '0000000000000004.ndjson',
      '0000000000000007.ndjson',
    ]);
    const again = new ChangeLog(dir, { chunkSize: 3 });
    expect(again.lastId).toBe(7);
    expect(again.append(changes(1, 7))[0]!.id).toBe(8);
    expect(readAll(again, 2).map((c) => [c.id, c.distinct_id])).toEqual(
      [3, 4, 5, 6, 7, 8].map((id) => [id, `u${id - 1}`]),
    );
    expect(readAll(again, 0)[0]).toEqual({
      id: 1,
      project: 'p',
      segment: 's',
      distinct_id: 'u0',
      change: 'entry',
      at: 1_000,
    });
    // A read stops at `through`, even inside a chunk.
    expect(again.readFrom(3, 5)).toMatchObject({ upTo: 5, changes: [{ id: 4 }, { id: 5 }] });
    again.close();
  });

  it('cuts a torn last line so the next append does not run into it', () => {
    const dir = tempDir();
    const log = new ChangeLog(dir);
    log.append(changes(2));
    log.close();
    const file = join(dir, '0000000000000001.ndjson');
    appendFileSync(file, '[3,"p","s","u2","en');
    const again = new ChangeLog(dir);
    expect(again.lastId).toBe(2);
    again.append(changes(1, 2));
    again.close();
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)[0]),
    ).toEqual([1, 2, 3]);
  });

  it('keeps retainedChunks once delivered, more while a webhook lags, never more than maxChunks', () => {
    const dir = tempDir();
    const log = new ChangeLog(dir, { chunkSize: 2, retainedChunks: 2, maxChunks: 4 });
    log.append(changes(4)); // chunks [1,2] [3,4]
    log.append(changes(2, 4)); // + [5,6]
    log.trim(6);
    expect(log.oldestId).toBe(3);
    expect(log.readFrom(1, 6)).toBeUndefined();
    expect(log.readFrom(2, 6)!.changes.map((c) => c.id)).toEqual([3, 4]);
    // A webhook that delivered only up to 4 keeps [5,6] and later chunks, up to maxChunks.
    log.append(changes(6, 6)); // [7,8] [9,10] [11,12]
    log.trim(4);
    expect(log.oldestId).toBe(5);
    log.append(changes(2, 12)); // [13,14]
    log.trim(4);
    expect(log.oldestId).toBe(7);
    expect(readdirSync(dir)).toHaveLength(4);
    log.close();
    expect(new ChangeLog(dir).oldestId).toBe(7);
  });

  it('mirrors changes numbered elsewhere: repeats are dropped, a jump in ids starts a chunk', () => {
    const dir = tempDir();
    const log = new ChangeLog(dir, { chunkSize: 3 });
    const numbered = (ids: number[]) => ids.map((id) => ({ id, ...changes(1, id - 1)[0]! }));
    // Retention dropped ids 1..4 before this log first read the topic.
    expect(log.mirror(numbered([5, 6])).map((c) => c.id)).toEqual([5, 6]);
    expect(log.oldestId).toBe(5);
    expect(log.mirror(numbered([6, 7, 8, 9])).map((c) => c.id)).toEqual([7, 8, 9]);
    expect(log.mirror(numbered([20, 21])).map((c) => c.id)).toEqual([20, 21]);
    log.close();
    expect(readdirSync(dir).sort()).toEqual([
      '0000000000000005.ndjson',
      '0000000000000008.ndjson',
      '0000000000000020.ndjson',
    ]);
    const again = new ChangeLog(dir, { chunkSize: 3 });
    expect(again.lastId).toBe(21);
    // A reader inside the jump goes on past it.
    expect(readAll(again, 4).map((c) => c.id)).toEqual([5, 6, 7, 8, 9, 20, 21]);
    expect(readAll(again, 12).map((c) => c.id)).toEqual([20, 21]);
    expect(again.readFrom(3, 21)).toBeUndefined();
    again.close();
  });
});
