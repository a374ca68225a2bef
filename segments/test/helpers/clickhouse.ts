import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVICES = fileURLToPath(new URL('../../../docker/services.sh', import.meta.url));

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(5000) });
    return res.ok && (await res.text()).trim() === 'Ok.';
  } catch {
    return false;
  }
}

/**
 * The URL of a running ClickHouse: CLICKHOUSE_URL when set, else the one docker/services.sh
 * starts (idempotent). Throws, never skips, when there is none.
 */
export async function clickhouseUrl(): Promise<string> {
  const preset = process.env.CLICKHOUSE_URL?.replace(/\/$/, '');
  if (preset) {
    if (await answers(preset)) return preset;
    throw new Error(
      `CLICKHOUSE_URL=${preset} does not answer /ping; start that server or unset CLICKHOUSE_URL`,
    );
  }
  let stdout: string;
  try {
    stdout = execFileSync(SERVICES, ['up', 'clickhouse'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(
      `ClickHouse could not be started with ${SERVICES} up clickhouse: ${stderr || (err as Error).message}. ` +
        'Install clickhouse-server (as root) or set CLICKHOUSE_URL to a running server.',
    );
  }
  const url = /^CLICKHOUSE_URL=(.+)$/m.exec(stdout)?.[1]?.trim();
  if (!url || !(await answers(url)))
    throw new Error(`docker/services.sh reported no usable ClickHouse: ${stdout}`);
  return url;
}

/** One statement over HTTP; the answer's text, or an error carrying the server's message and the SQL. */
export async function clickhouse(url: string, sql: string, body?: string): Promise<string> {
  const target = body === undefined ? url : `${url}/?query=${encodeURIComponent(sql)}`;
  const res = await fetch(target, { method: 'POST', body: body ?? sql });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse ${res.status}: ${text.trim()}\n-- SQL: ${sql.slice(0, 2000)}`);
  return text;
}
