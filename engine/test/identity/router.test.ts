import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardOf, type WeftEvent } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Router } from '../../src/identity/router.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function routesFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-router-'));
  dirs.push(dir);
  return join(dir, 'identity', 'routes.ndjson');
}
function idOn(prefix: string, shard: number): string {
  for (let i = 0; ; i++) if (shardOf('p', `${prefix}${i}`, 4) === shard) return `${prefix}${i}`;
}
const identify = (login: string, anon: string): WeftEvent => ({
  event_id: 'x',
  project: 'p',
  event: '$identify',
  distinct_id: login,
  time: 0,
  received_at: 0,
  properties: { $anon_distinct_id: anon },
});

describe('Router', () => {
  it('routes an identified anonymous id to its login shard, durably, and orders its eviction', () => {
    const path = routesFile();
    const anon = idOn('anon', 1);
    const login = idOn('user', 3);
    const router = new Router(path, 4);
    expect(router.shardOf('p', anon)).toBe(1);
    expect(router.route(identify(login, anon))).toEqual({
      shard: 3,
      eviction: { project: 'p', id: anon, from: 1, to: 3 },
    });
    expect(router.shardOf('p', anon)).toBe(3);
    expect(router.shardOf('other', anon)).toBe(shardOf('other', anon, 4));
    // A second identify of the same pair moves nothing.
    expect(router.route(identify(login, anon))).toEqual({ shard: 3 });
    appendFileSync(path, '["p","half'); // a torn line from a crash mid-append
    expect(new Router(path, 4).shardOf('p', anon)).toBe(3);
  });

  it('moves nothing when both ids already share a shard', () => {
    const router = new Router(routesFile(), 4);
    const anon = idOn('anon', 2);
    const login = idOn('user', 2);
    expect(router.route(identify(login, anon))).toEqual({ shard: 2 });
  });
});
