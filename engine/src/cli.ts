#!/usr/bin/env node
import { createReadStream, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

const HELP = `weft — real-time CDP and journey engine

Usage:
  weft start                       start the server (same as npm start)
  weft import <file> [options]     load a CSV or NDJSON file through POST /v1/import
  weft query events [options]      run an event analysis and print the series
  weft --help

Common options:
  --url <url>            server URL (default http://127.0.0.1:8080, or WEFT_URL)
  --secret-key <key>     secret key (default WEFT_SECRET_KEY, else <data dir>/keys.json)

import options:
  --format csv|ndjson    default from the file extension
  --map field=column     map distinct_id, event, time, session_id, event_id (repeatable)
  --tz <zone>            zone of times without one (default UTC)

query events options:
  --event <name>         event to count (repeatable)
  --from <date>          inclusive, YYYY-MM-DD or ISO time
  --to <date>            exclusive
  --interval hour|day|week|month   (default day)
  --metric count|uniques|per_user  (default count)
  --breakdown <property>
  --tz <zone>

Example (the shared dataset):
  weft import ../shared/datasets/ecom.csv --map distinct_id=user_id --map event=event \\
    --map time=timestamp --map session_id=session_id
`;

function secretKey(explicit: string | undefined): string {
  if (explicit) return explicit;
  if (process.env.WEFT_SECRET_KEY) return process.env.WEFT_SECRET_KEY;
  const path = join(resolve(process.env.WEFT_DATA_DIR || './data'), 'keys.json');
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { secretKey: string }).secretKey;
  } catch {
    throw new Error(`no secret key: pass --secret-key, set WEFT_SECRET_KEY, or run where ${path} exists`);
  }
}

async function request(url: string, init: RequestInit & { duplex?: 'half' }): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = body as { error?: { message?: string } } | null;
    throw new Error(`${res.status}: ${err?.error?.message ?? text}`);
  }
  return body;
}

async function importFile(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'secret-key': { type: 'string' },
      format: { type: 'string' },
      map: { type: 'string', multiple: true },
      tz: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file) throw new Error('import: name the file to load');
  const format = values.format ?? (file.endsWith('.ndjson') || file.endsWith('.jsonl') ? 'ndjson' : 'csv');
  const query = new URLSearchParams({ format });
  for (const m of values.map ?? []) {
    const [field, column] = m.split('=');
    if (!field || !column) throw new Error(`--map: expected field=column, got "${m}"`);
    query.set(`map.${field}`, column);
  }
  if (values.tz) query.set('tz', values.tz);
  const base = values.url ?? process.env.WEFT_URL ?? 'http://127.0.0.1:8080';
  const result = await request(`${base}/v1/import?${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${secretKey(values['secret-key'])}`,
      'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
    },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function queryEvents(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'secret-key': { type: 'string' },
      event: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      interval: { type: 'string' },
      metric: { type: 'string' },
      breakdown: { type: 'string' },
      tz: { type: 'string' },
    },
  });
  if (!values.event?.length || !values.from || !values.to) {
    throw new Error('query events: --event, --from and --to are required');
  }
  const body: Record<string, unknown> = {
    events: values.event.map((event) => ({ event })),
    from: values.from,
    to: values.to,
    interval: values.interval ?? 'day',
    metric: values.metric ?? 'count',
  };
  if (values.breakdown) body.breakdown = values.breakdown;
  if (values.tz) body.tz = values.tz;
  const base = values.url ?? process.env.WEFT_URL ?? 'http://127.0.0.1:8080';
  const result = (await request(`${base}/v1/query/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${secretKey(values['secret-key'])}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  })) as {
    series: Array<{
      event: string;
      breakdown?: unknown;
      total: number;
      points: Array<{ t: string; value: number }>;
    }>;
  };
  for (const s of result.series) {
    const label = s.breakdown === undefined ? s.event : `${s.event} [${JSON.stringify(s.breakdown)}]`;
    process.stdout.write(`${label}: total ${s.total}\n`);
    for (const p of s.points) process.stdout.write(`  ${p.t}  ${p.value}\n`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'start') {
    await import('./main.js');
    return;
  }
  if (command === 'import') return importFile(rest);
  if (command === 'query' && rest[0] === 'events') return queryEvents(rest.slice(1));
  throw new Error(`unknown command "${argv.join(' ')}"; see weft --help`);
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`weft: ${err.message}\n`);
  process.exitCode = 1;
});
