import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Users are hashed onto shards, so a data directory is bound to its shard count: opening it
 * with another count would put users on the wrong shard.
 */
export function checkLayout(dataDir: string, shards: number): void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'layout.json');
  try {
    const layout = JSON.parse(readFileSync(path, 'utf8')) as { shards: number };
    if (layout.shards !== shards) {
      throw new Error(
        `WEFT_SHARDS: the data directory ${dataDir} was created with ${layout.shards} shards; start with WEFT_SHARDS=${layout.shards} or use a new WEFT_DATA_DIR`,
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    writeFileSync(path, JSON.stringify({ version: 1, shards }));
  }
}
