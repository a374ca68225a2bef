import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Properties, PropValue } from '@weft/core';

/**
 * Tag changes travel as `$tag` events through the normal pipeline: the bus makes them durable
 * and replayable, identity routing sends them to the user's shard, event-id dedup makes
 * retries safe, snapshots keep them as rows (so the tag store is rebuilt from rows at start),
 * and the rows are the tag history. The write key is public, so a `$tag` event counts only
 * when its `$tag_mac` is an HMAC (over user, time and change) under the data directory's tag
 * key, which only the server knows: clients cannot tag themselves through /v1/batch.
 */
export const TAG_EVENT = '$tag';
export const TAG_PROP = '$tag';
export const TAG_VALUE_PROP = '$tag_value';
export const TAG_OP_PROP = '$tag_op';
export const TAG_SOURCE_PROP = '$tag_source';
export const TAG_USER_PROP = '$tag_user';
export const TAG_MAC_PROP = '$tag_mac';

export type TagOp = 'add' | 'remove';

export interface TagChange {
  op: TagOp;
  tag: string;
  value: string | null;
}

/** Binds a change to its user and time; the shard checks `$tag_user` resolves to the row's user. */
export function tagMac(key: Buffer, distinctId: string, time: number, change: TagChange): string {
  return createHmac('sha256', key)
    .update(`${distinctId}\n${time}\n${change.op}\n${change.tag}\n${change.value ?? ''}`)
    .digest('base64url')
    .slice(0, 22);
}

/** The properties of a signed `$tag` event. */
export function tagEventProperties(
  key: Buffer,
  distinctId: string,
  time: number,
  change: TagChange,
  source: string,
): Properties {
  return {
    [TAG_USER_PROP]: distinctId,
    [TAG_PROP]: change.tag,
    [TAG_VALUE_PROP]: change.value,
    [TAG_OP_PROP]: change.op,
    [TAG_SOURCE_PROP]: source,
    [TAG_MAC_PROP]: tagMac(key, distinctId, time, change),
  };
}

/** The change a `$tag` event's properties carry, or undefined when malformed. */
export function readTagChange(
  get: (prop: string) => PropValue | undefined,
): (TagChange & { user: string; mac: string }) | undefined {
  const user = get(TAG_USER_PROP);
  const mac = get(TAG_MAC_PROP);
  const tag = get(TAG_PROP);
  const op = get(TAG_OP_PROP);
  const value = get(TAG_VALUE_PROP) ?? null;
  if (typeof tag !== 'string' || (op !== 'add' && op !== 'remove')) return undefined;
  if (typeof user !== 'string' || typeof mac !== 'string') return undefined;
  if (value !== null && typeof value !== 'string') return undefined;
  return { op, tag, value, user, mac };
}

/** The data directory's tag key, created on first use (shards and the HTTP thread read the same file). */
export function loadTagKey(dataDir: string): Buffer {
  const path = join(dataDir, 'segments', 'tag.key');
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, randomBytes(32), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // Another thread created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(path);
}
