import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
export const WRITE_KEY = 'wk_test';
export const SECRET_KEY = 'sk_test';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the real server (`node engine/dist/main.js`) as a child process on a free port. */
export async function startServerProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      WEFT_DATA_DIR: dataDir,
      WEFT_PORT: '0',
      WEFT_WRITE_KEY: WRITE_KEY,
      WEFT_SECRET_KEY: SECRET_KEY,
      WEFT_SHARDS: '2',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /Weft listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url,
    child,
    output: () => out,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
  };
}

export async function postBatch(
  url: string,
  events: unknown[],
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-write-key': WRITE_KEY },
    body: JSON.stringify({ events, ...extra }),
  });
}

export async function query(url: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET_KEY}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function countEvents(url: string, event: string, metric = 'count'): Promise<number> {
  const res = (await query(url, '/v1/query/events', {
    events: [{ event }],
    metric,
    from: '2000-01-01',
    to: '2100-01-01',
    interval: 'month',
  })) as { series: Array<{ total: number }> };
  return res.series[0]!.total;
}
