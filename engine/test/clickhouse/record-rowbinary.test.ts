import type { WeftEvent } from '@weft/core';
import { afterAll, describe, expect, it } from 'vitest';
import { EventEncoder, EventRecord } from '../../src/bus/event-codec.js';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { insertEvents } from '../../src/clickhouse/insert.js';
import { ROW_COLUMNS, recordRowBinary } from '../../src/clickhouse/record-rowbinary.js';
import { freshDatabase } from './fixtures.js';

const T = 1_760_000_000_000;
const tricky = "tab\there, line\nbreak, cr\r, back\\slash, quote ' and \" , 中文 ✓, [brackets], 'quoted'";

const events: WeftEvent[] = [
  {
    event_id: 'tsv-1',
    project: 'p\tq',
    event: '$click',
    distinct_id: "u'1",
    time: T + 1,
    received_at: T + 10,
    session_id: 's\n1',
    properties: {
      $url: `https://x.test/a?q=${tricky}`,
      $path: '/a\\b',
      $el_selector: "button[name='go']",
      $x: 0.25,
      $y: 1e21,
      [tricky]: tricky,
      n: -3.5,
      zero: -0,
      yes: true,
      no: false,
      none: null,
    },
  },
  {
    event_id: 'tsv-2',
    project: 'p\tq',
    event: 'plain',
    distinct_id: 'u2',
    time: T,
    received_at: T,
    properties: {},
  },
  {
    event_id: 'tsv-3',
    project: 'p\tq',
    event: '$identify',
    distinct_id: 'login-1',
    time: T + 5,
    received_at: T + 5,
    properties: { $anon_distinct_id: "anon'1" },
  },
];

let binDb: ClickHouse | undefined;
let jsonDb: ClickHouse | undefined;
afterAll(async () => {
  for (const ch of [binDb, jsonDb]) {
    await ch?.command(`DROP DATABASE IF EXISTS \`${ch.database}\``);
    await ch?.close();
  }
});

async function dump(ch: ClickHouse): Promise<unknown[]> {
  return ch.rows(`SELECT *, time FROM ${ch.table('events')} ORDER BY event_id`);
}

describe('recordRowBinary', () => {
  it('stores exactly the rows the JSON path stores, whatever the strings hold', async () => {
    binDb = await freshDatabase('weft_test_rowbinary');
    jsonDb = await freshDatabase('weft_test_rowbinary_json');
    const rec = new EventRecord(
      new EventEncoder().encode('p\tq', events, new Uint32Array(events.length * 2)),
    );
    await binDb.insertRowBinary('events', ROW_COLUMNS, [recordRowBinary(rec)]);
    await insertEvents(jsonDb, events);
    const [viaBinary, viaJson] = [await dump(binDb), await dump(jsonDb)];
    expect(viaBinary).toHaveLength(3);
    expect(viaBinary).toEqual(viaJson);
  });
});
