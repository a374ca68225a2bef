import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

export interface ClickHouseOptions {
  /** e.g. http://127.0.0.1:8123 (CLICKHOUSE_URL). */
  url: string;
  /** Database holding Weft's tables (CLICKHOUSE_DATABASE, default `weft`). */
  database: string;
  /** Settings sent with every statement, e.g. `max_memory_usage` for large analyses. */
  settings?: Record<string, string | number>;
}

/** Settings every read sends: numbers as JSON numbers (18.16 quotes UInt64 otherwise). */
const READ_SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

/**
 * A thin wrapper over @clickhouse/client for the SQL 18.16 understands: one statement per
 * request, JSONEachRow in and out, tables qualified with the database (which may not exist
 * before the first migration, so the connection itself does not select it).
 */
export class ClickHouse {
  readonly database: string;
  private readonly client: ClickHouseClient;

  constructor(options: ClickHouseOptions) {
    this.database = options.database;
    // Errors reach callers as exceptions; the client's own logging would only repeat them.
    this.client = createClient({
      url: options.url,
      request_timeout: 300_000,
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: {
        send_progress_in_http_headers: 1,
        http_headers_progress_interval_ms: '10000',
        ...options.settings,
      },
    });
  }

  /** The configured server, or undefined when CLICKHOUSE_URL is not set. */
  static fromConfig(config: {
    clickhouseUrl: string | undefined;
    clickhouseDatabase: string;
  }): ClickHouse | undefined {
    return config.clickhouseUrl
      ? new ClickHouse({ url: config.clickhouseUrl, database: config.clickhouseDatabase })
      : undefined;
  }

  /** `name` qualified with the database, quoted. */
  table(name: string): string {
    return `\`${this.database}\`.\`${name}\``;
  }

  async command(sql: string): Promise<void> {
    await this.client.command({ query: sql });
  }

  async rows<T>(sql: string): Promise<T[]> {
    const result = await this.client.query({
      query: sql,
      format: 'JSONEachRow',
      clickhouse_settings: READ_SETTINGS,
    });
    return result.json<T>();
  }

  async insert(table: string, values: readonly object[]): Promise<void> {
    if (values.length === 0) return;
    await this.client.insert({
      table: `${this.database}.${table}`,
      values: values as object[],
      format: 'JSONEachRow',
    });
  }

  /** Inserts pre-formatted text (e.g. TabSeparated lines) into the given columns. */
  async insertText(
    table: string,
    columns: [string, ...string[]],
    format: 'TabSeparated',
    chunks: string[],
  ): Promise<void> {
    if (chunks.length === 0) return;
    await this.client.insert({
      table: `${this.database}.${table}`,
      values: Readable.from(chunks, { objectMode: false }),
      format,
      columns,
    });
  }

  async ping(): Promise<boolean> {
    return (await this.client.ping()).success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
