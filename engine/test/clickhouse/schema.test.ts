import type { WeftEvent } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { insertEvents } from '../../src/clickhouse/insert.js';
import { MIGRATIONS, migrate } from '../../src/clickhouse/migrations.js';
import { freshDatabase } from './fixtures.js';

let ch: ClickHouse;
beforeAll(async () => {
  ch = await freshDatabase('weft_test_schema');
});
afterAll(async () => {
  await ch?.close();
});

const ev = (id: string, extra: Partial<WeftEvent> = {}): WeftEvent => ({
  event_id: id,
  project: 'p',
  event: '$click',
  distinct_id: 'u1',
  time: Date.UTC(2024, 0, 31, 23, 59, 59, 999),
  received_at: 0,
  properties: { $url: 'https://a.example/x', $x: 10.5, $el_selector: '#b', ok: true, none: null, n: 3 },
  ...extra,
});

describe('ClickHouse schema', () => {
  it('records each migration once and re-running applies nothing', async () => {
    const versions = await ch.rows<{ version: number }>(
      `SELECT version FROM ${ch.table('schema_migrations')} ORDER BY version`,
    );
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(ch)).toEqual([]);
  });

  it('stores hot columns, typed property arrays and ms time; event_id is unique after merges', async () => {
    await insertEvents(ch, [ev('a'), ev('b', { session_id: 's' })]);
    await insertEvents(ch, [ev('a')]);
    await ch.command(`OPTIMIZE TABLE ${ch.table('events')} FINAL`);
    const rows = await ch.rows<Record<string, unknown>>(
      `SELECT event_id, time_ms, toString(time) AS t, session_id, url, x, y, el_selector, prop_keys, prop_values, prop_types, prop_numbers
       FROM ${ch.table('events')} WHERE event = '$click' ORDER BY event_id`,
    );
    expect(rows.map((r) => r.event_id)).toEqual(['a', 'b']);
    expect(rows[0]).toMatchObject({
      time_ms: Date.UTC(2024, 0, 31, 23, 59, 59, 999),
      t: '2024-01-31 23:59:59',
      session_id: '',
      url: 'https://a.example/x',
      x: 10.5,
      y: null,
      el_selector: '#b',
      prop_keys: ['$url', '$x', '$el_selector', 'ok', 'none', 'n'],
      prop_values: ['https://a.example/x', '10.5', '#b', 'true', '', '3'],
      prop_types: [0, 1, 0, 2, 3, 1],
      prop_numbers: [0, 10.5, 0, 0, 0, 3],
    });
    expect(rows[1]!.session_id).toBe('s');
  });
});
