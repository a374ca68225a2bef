import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, SECRET_KEY, type ServerProcess, startServerProcess } from './server-process.js';

const DATASETS = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

/** An independent reading of the CSV (these files have no quoted fields): per-event counts and users. */
function csvFacts(file: string, column: string) {
  const [header, ...lines] = readFileSync(join(DATASETS, file), 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const ev = cols.indexOf('event');
  const user = cols.indexOf('user_id');
  const col = cols.indexOf(column);
  const counts = new Map<string, number>();
  const byColumn = new Map<string, number>();
  const usersByEvent = new Map<string, Set<string>>();
  for (const line of lines) {
    const cells = line.split(',');
    counts.set(cells[ev]!, (counts.get(cells[ev]!) ?? 0) + 1);
    byColumn.set(cells[col]!, (byColumn.get(cells[col]!) ?? 0) + 1);
    if (!usersByEvent.has(cells[ev]!)) usersByEvent.set(cells[ev]!, new Set());
    usersByEvent.get(cells[ev]!)!.add(cells[user]!);
  }
  const uniques = new Map([...usersByEvent].map(([e, set]) => [e, set.size]));
  return { rows: lines.length, counts, byColumn, uniques };
}

type Series = { series: Array<{ event: string; total: number; breakdown?: unknown }> };

const dataDir = mkdtempSync(join(tmpdir(), 'weft-import-'));
let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess(dataDir);
});
afterAll(async () => {
  await server.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('importing the shared datasets', () => {
  it('loads simple-onlineshop.csv with the CLI; counts equal the CSV', async () => {
    const facts = csvFacts('simple-onlineshop.csv', 'event');
    const { stdout } = await run(process.execPath, [
      CLI,
      'import',
      join(DATASETS, 'simple-onlineshop.csv'),
      '--url',
      server.url,
      '--secret-key',
      SECRET_KEY,
      '--map',
      'distinct_id=user_id',
      '--map',
      'event=event',
      '--map',
      'time=timestamp',
    ]);
    const result = JSON.parse(stdout) as { accepted: number; rejected: unknown[] };
    expect(result).toMatchObject({ accepted: facts.rows, rejected: [] });
    const names = [...facts.counts.keys()];
    const counts = (await query(server.url, '/v1/query/events', {
      events: names.map((event) => ({ event })),
      metric: 'count',
      from: '2019-11-01',
      to: '2020-05-01',
      interval: 'month',
    })) as Series;
    expect(Object.fromEntries(counts.series.map((s) => [s.event, s.total]))).toEqual(
      Object.fromEntries(facts.counts),
    );
    const { stdout: printed } = await run(process.execPath, [
      CLI,
      'query',
      'events',
      '--url',
      server.url,
      '--secret-key',
      SECRET_KEY,
      '--event',
      'catalog',
      '--from',
      '2019-11-01',
      '--to',
      '2020-05-01',
      '--interval',
      'month',
    ]);
    expect(printed).toContain(`catalog: total ${facts.counts.get('catalog')}`);
  });

  it('loads ecom.csv over HTTP; extra columns become properties usable in breakdowns', async () => {
    const facts = csvFacts('ecom.csv', 'platform');
    const params =
      'format=csv&map.distinct_id=user_id&map.event=event&map.time=timestamp&map.session_id=session_id';
    const res = await fetch(`${server.url}/v1/import?${params}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'text/csv' },
      body: readFileSync(join(DATASETS, 'ecom.csv')),
    });
    expect(await res.json()).toMatchObject({ accepted: facts.rows, rejected: [] });
    const names = [...facts.counts.keys()];
    const byPlatform = (await query(server.url, '/v1/query/events', {
      events: names.map((event) => ({ event })),
      metric: 'count',
      from: '2024-01-01',
      to: '2024-07-01',
      interval: 'week',
      breakdown: 'platform',
    })) as Series;
    const totals = new Map<string, number>();
    for (const s of byPlatform.series)
      totals.set(String(s.breakdown), (totals.get(String(s.breakdown)) ?? 0) + s.total);
    expect(Object.fromEntries(totals)).toEqual(Object.fromEntries(facts.byColumn));
    const users = (await query(server.url, '/v1/query/events', {
      events: names.map((event) => ({ event })),
      metric: 'uniques',
      from: '2024-01-01',
      to: '2024-07-01',
      interval: 'month',
    })) as Series;
    expect(Object.fromEntries(users.series.map((s) => [s.event, s.total]))).toEqual(
      Object.fromEntries(facts.uniques),
    );
  });
});
