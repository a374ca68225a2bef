import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVICES = fileURLToPath(new URL('../../docker/services.sh', import.meta.url));

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/ping`, { signal: AbortSignal.timeout(5000) });
    return res.ok && (await res.text()).trim() === 'Ok.';
  } catch {
    return false;
  }
}

/**
 * The ClickHouse equality tests need a real server: use CLICKHOUSE_URL when set, else start
 * one with docker/services.sh (idempotent; the first install takes about a minute). Never
 * skip: when it cannot come up, the run fails saying what to do.
 */
export default async function setup(): Promise<void> {
  const preset = process.env.CLICKHOUSE_URL;
  if (preset) {
    if (await answers(preset)) return;
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
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(
      `ClickHouse for the tests could not be started with ${SERVICES} up clickhouse: ${stderr || (err as Error).message}. ` +
        'Install it (apt-get install clickhouse-server clickhouse-client, as root) or point CLICKHOUSE_URL at a running server.',
    );
  }
  const url = /^CLICKHOUSE_URL=(.+)$/m.exec(stdout)?.[1]?.trim();
  if (!url || !(await answers(url))) {
    throw new Error(
      `docker/services.sh reported no usable ClickHouse (output: ${stdout.trim()}); set CLICKHOUSE_URL`,
    );
  }
  // Test workers are forked after global setup and inherit this.
  process.env.CLICKHOUSE_URL = url;
}
