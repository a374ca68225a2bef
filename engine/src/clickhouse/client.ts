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
  private readonly url: string;
  private readonly client: ClickHouseClient;

  constructor(options: ClickHouseOptions) {
    this.database = options.database;
    this.url = options.url.replace(/\/$/, '');
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

  /**
   * Inserts RowBinary rows into the given columns. Over plain HTTP: the client library does
   * not take binary formats for inserts.
   */
  async insertRowBinary(table: string, columns: readonly string[], chunks: Buffer[]): Promise<void> {
    if (chunks.length === 0) return;
    const query = `INSERT INTO ${this.table(table)} (${columns.join(', ')}) FORMAT RowBinary`;
    const res = await fetch(`${this.url}/?query=${encodeURIComponent(query)}`, {
      method: 'POST',
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
    });
    if (!res.ok)
      throw new Error(`ClickHouse insert into ${table}: ${res.status} ${(await res.text()).slice(0, 500)}`);
  }

  async ping(): Promise<boolean> {
    return (await this.client.ping()).success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
