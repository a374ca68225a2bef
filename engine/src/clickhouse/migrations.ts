import type { ClickHouse } from './client.js';

interface Migration {
  version: number;
  name: string;
  /** Statements, run in order; `{db}` is replaced with the quoted database name. */
  statements: string[];
}

/**
 * Weft's ClickHouse schema, as versioned migrations. SQL is kept to what 18.16 runs (no
 * TTL, codecs, skip indexes or LowCardinality), so it also runs on current releases.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    statements: [
      // One row per accepted event; rows of a replayed event are identical, so the sorting key
      // (which ends with event_id) makes event_id unique after merges or with FINAL. Property
      // values are parallel arrays: text, a type marker (0 string, 1 number, 2 boolean, 3 null)
      // and the number (0 unless numeric), so filters, sums and breakdowns need no parsing.
      `CREATE TABLE IF NOT EXISTS {db}.events (
        project String,
        event String,
        event_id String,
        distinct_id String,
        time_ms UInt64,
        time DateTime('UTC') MATERIALIZED toDateTime(intDiv(time_ms, 1000), 'UTC'),
        received_at UInt64,
        session_id String,
        url String,
        path String,
        el_selector String,
        x Nullable(Float64),
        y Nullable(Float64),
        prop_keys Array(String),
        prop_values Array(String),
        prop_types Array(UInt8),
        prop_numbers Array(Float64)
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(time)
      ORDER BY (project, event, distinct_id, time_ms, event_id)`,
    ],
  },
  {
    version: 2,
    name: 'identities',
    statements: [
      // distinct id -> person (the canonical id the index resolved it to, chains of identifies
      // followed), re-written for every id of a person when it changes; the latest version wins.
      // Rows written before the index mapping (one $identify link each) keep working, outranked.
      `CREATE TABLE IF NOT EXISTS {db}.identities (
        project String,
        distinct_id String,
        person String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (project, distinct_id)`,
    ],
  },
];

/** Creates the database and applies the migrations it has not seen, recording each in schema_migrations. */
export async function migrate(ch: ClickHouse): Promise<number[]> {
  const db = `\`${ch.database}\``;
  await ch.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await ch.command(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, applied_at DateTime('UTC'))
     ENGINE = MergeTree ORDER BY version`,
  );
  const done = new Set(
    (await ch.rows<{ version: number }>(`SELECT version FROM ${db}.schema_migrations`)).map((r) => r.version),
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const sql of m.statements) await ch.command(sql.replaceAll('{db}', db));
    await ch.insert('schema_migrations', [
      { version: m.version, name: m.name, applied_at: Math.floor(Date.now() / 1000) },
    ]);
    applied.push(m.version);
  }
  return applied;
}
