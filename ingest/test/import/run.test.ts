import { WeftError, type WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { parseImportQuery } from '../../src/import/mapping.js';
import { runImport } from '../../src/import/run.js';
import { limits, NOW } from '../helpers.js';

const csvMapping = parseImportQuery(
  { format: 'csv', 'map.distinct_id': 'user', 'map.event': 'event', 'map.time': 'time' },
  undefined,
);

async function* chunks(parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const part of parts) yield part;
}

function csvLines(rows: number): string {
  const lines = ['user,event,time'];
  for (let i = 0; i < rows; i++) lines.push(`u${i % 7},e${i % 3},${1_700_000_000 + i}`);
  return lines.join('\n');
}

describe('runImport', () => {
  it('publishes accepted rows in chunks of 5000 and reports rejects by physical line', async () => {
    const published: WeftEvent[][] = [];
    const text = `${csvLines(12_000)}\nu,,1700000000\nu,e,never\n`;
    const result = await runImport(chunks([text]), csvMapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async (events) => {
        published.push(events);
      },
    });
    expect(result).toEqual({
      accepted: 12_000,
      rejected: [
        { line: 12_002, reason: 'event: must be a string of 1-200 characters' },
        { line: 12_003, reason: expect.stringMatching(/^time: "never" is not/) },
      ],
      rejected_count: 2,
    });
    expect(published.map((events) => events.length)).toEqual([5000, 5000, 2000]);
    expect(published[0][0]).toMatchObject({
      project: 'p',
      distinct_id: 'u0',
      event: 'e0',
      time: 1_700_000_000_000,
    });
  });

  it('decodes UTF-8 split across chunks and drops the BOM', async () => {
    const bytes = new TextEncoder().encode('\uFEFFuser,event,time,city\nu1,买,1700000000,上海\n');
    const parts = [...bytes].map((b) => Uint8Array.of(b));
    const events: WeftEvent[] = [];
    const result = await runImport(chunks(parts), csvMapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async (batch) => {
        events.push(...batch);
      },
    });
    expect(result.accepted).toBe(1);
    expect(events[0]).toMatchObject({ event: '买', properties: { city: '上海' } });
  });

  it('waits for each publish before reading on', async () => {
    let reads = 0;
    const readsAtPublish: number[] = [];
    async function* source(): AsyncGenerator<string> {
      yield 'user,event,time\n';
      for (let i = 0; i < 30; i++) {
        reads++;
        yield `${'u,e,1700000000\n'.repeat(1000)}`;
      }
    }
    await runImport(source(), csvMapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async () => {
        readsAtPublish.push(reads);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    expect(readsAtPublish).toEqual([5, 10, 15, 20, 25, 30]);
  });

  it('caps the rejected list at 1000 and counts them all', async () => {
    const text = `user,event,time\n${'u,,1700000000\n'.repeat(1500)}`;
    const result = await runImport(chunks([text]), csvMapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async () => {},
    });
    expect(result.rejected).toHaveLength(1000);
    expect(result.rejected_count).toBe(1500);
    expect(result.rejected[999].line).toBe(1001);
  });

  it('throws 400 for a CSV without a header line', async () => {
    const run = runImport(chunks(['\n\n']), csvMapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async () => {},
    });
    await expect(run).rejects.toMatchObject({ status: 400, message: 'body: the CSV has no header line' });
  });

  it('stops with the engine error and says how many events were accepted before it', async () => {
    let calls = 0;
    const run = runImport(chunks([csvLines(12_000)]), csvMapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async () => {
        if (++calls === 2) throw new WeftError('overloaded', 'bus is full', undefined, 3);
      },
    });
    await expect(run).rejects.toMatchObject({
      status: 503,
      message: 'bus is full (import stopped after 5000 accepted events)',
      details: { accepted: 5000 },
      retryAfter: 3,
    });
  });

  it('imports NDJSON', async () => {
    const mapping = parseImportQuery(
      { format: 'ndjson', 'map.distinct_id': 'uid', 'map.event': 'name', 'map.time': 'ts' },
      undefined,
    );
    const events: WeftEvent[] = [];
    const text =
      '{"uid":"a","name":"view","ts":"2024-01-01T00:00:00Z","page":{"path":"/"}}\n{"uid":"b"}\nnope\n';
    const result = await runImport(chunks([text]), mapping, {
      project: 'p',
      receivedAt: NOW,
      limits,
      publish: async (batch) => {
        events.push(...batch);
      },
    });
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((r) => r.line)).toEqual([2, 3]);
    expect(events[0]).toMatchObject({
      distinct_id: 'a',
      event: 'view',
      time: Date.UTC(2024, 0, 1),
      properties: { 'page.path': '/' },
    });
  });
});
