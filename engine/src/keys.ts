import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectKeys, WeftConfig } from '@weft/core';

const DEFAULT_PROJECT = 'default';

/**
 * Keys of the embedded default project: from WEFT_WRITE_KEY / WEFT_SECRET_KEY, else the
 * ones generated on first start and kept in the data directory.
 */
export function loadProjectKeys(config: WeftConfig): ProjectKeys[] {
  const path = join(config.dataDir, 'keys.json');
  let stored: ProjectKeys | undefined;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as ProjectKeys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keys: ProjectKeys = {
    project: DEFAULT_PROJECT,
    writeKey: config.writeKey ?? stored?.writeKey ?? `wk_${randomBytes(12).toString('hex')}`,
    secretKey: config.secretKey ?? stored?.secretKey ?? `sk_${randomBytes(24).toString('hex')}`,
  };
  if (!stored || stored.writeKey !== keys.writeKey || stored.secretKey !== keys.secretKey) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(path, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  return [keys];
}
