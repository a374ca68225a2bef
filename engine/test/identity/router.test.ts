import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { shardOf, type WeftEvent } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Eviction, Router } from '../../src/identity/router.js';

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
const view = (id: string): WeftEvent => ({ ...identify(id, ''), event: 'view', properties: {} });

/** Routes one event and returns its shard with the evictions it ordered. */
function route(router: Router, e: WeftEvent): { shard: number; evictions: Eviction[] } {
  const evictions: Eviction[] = [];
  const shard = router.route(e, evictions);
  router.save();
  return { shard, evictions };
}

describe('Router', () => {
  it('routes an identified anonymous id to its login shard, durably, and orders its eviction', () => {
    const path = routesFile();
    const anon = idOn('anon', 1);
    const login = idOn('user', 3);
    const router = new Router(path, 4);
    expect(router.shardOf('p', anon)).toBe(1);
    expect(route(router, identify(login, anon))).toEqual({
      shard: 3,
      evictions: [{ project: 'p', id: anon, aliases: [], from: 1, to: 3 }],
    });
    expect(router.shardOf('p', anon)).toBe(3);
    expect(router.shardOf('other', anon)).toBe(shardOf('other', anon, 4));
    // A second identify of the same pair moves nothing and records nothing.
    const size = readFileSync(path).length;
    expect(route(router, identify(login, anon))).toEqual({ shard: 3, evictions: [] });
    expect(readFileSync(path).length).toBe(size);
    appendFileSync(path, '["p","half'); // a torn line from a crash mid-append
    expect(new Router(path, 4).shardOf('p', anon)).toBe(3);
  });

  it('moves nothing when both ids already share a shard, but remembers the link', () => {
    const router = new Router(routesFile(), 4);
    const anon = idOn('anon', 2);
    const login = idOn('user', 2);
    expect(route(router, identify(login, anon))).toEqual({ shard: 2, evictions: [] });
    expect(router.placed('p', anon)).toBe(2);
    expect(router.placed('p', idOn('never', 2))).toBeUndefined();
  });

  it('sends every id of a person along a chain of identifies (a -> b on one shard, b -> c on another)', () => {
    const path = routesFile();
    const router = new Router(path, 4);
    const a = idOn('anon', 0);
    const b = idOn('user', 0);
    const c = idOn('login', 2);
    expect(route(router, identify(b, a)).evictions).toEqual([]);
    expect(route(router, identify(c, b))).toEqual({
      shard: 2,
      evictions: [{ project: 'p', id: b, aliases: [a], from: 0, to: 2 }],
    });
    for (const id of [a, b, c]) expect(router.shardOf('p', id)).toBe(2);
    // The links replay into the same routes after a restart.
    const again = new Router(path, 4);
    for (const id of [a, b, c]) expect(again.shardOf('p', id)).toBe(2);
    expect(route(again, view(a)).shard).toBe(2);
  });

  it('moves a login with its anonymous ids when it is merged into another login', () => {
    const router = new Router(routesFile(), 4);
    const a1 = idOn('a1-', 1);
    const a2 = idOn('a2-', 3);
    const b = idOn('b', 1);
    const c = idOn('c', 3);
    route(router, identify(b, a1));
    route(router, identify(c, a2));
    // b's person (a1, b) joins c's person (a2, c) on c's shard.
    const { evictions } = route(router, identify(c, b));
    expect(evictions).toEqual([{ project: 'p', id: b, aliases: [a1], from: 1, to: 3 }]);
    for (const id of [a1, a2, b, c]) expect(router.shardOf('p', id)).toBe(3);
    // The anonymous id of the merged login is named again: it is one person with c already.
    expect(route(router, identify(c, a1)).evictions).toEqual([]);
  });

  it('follows a person that moves twice: the second eviction starts where the first ended', () => {
    const router = new Router(routesFile(), 4);
    const a = idOn('anon', 0);
    const b = idOn('user', 1);
    const c = idOn('login', 2);
    expect(route(router, identify(b, a)).evictions).toEqual([
      { project: 'p', id: a, aliases: [], from: 0, to: 1 },
    ]);
    expect(route(router, identify(c, b)).evictions).toEqual([
      { project: 'p', id: b, aliases: [a], from: 1, to: 2 },
    ]);
    // A move still on its way to b's old shard is sent where the person is now.
    expect(router.placed('p', a)).toBe(2);
  });

  it('reads overrides of files written before links were kept', () => {
    const path = routesFile();
    mkdirSync(dirname(path), { recursive: true });
    const anon = idOn('anon', 1);
    writeFileSync(path, `${JSON.stringify(['p', anon, 3])}\n`);
    const router = new Router(path, 4);
    expect(router.shardOf('p', anon)).toBe(3);
    const login = idOn('user', 0);
    expect(route(router, identify(login, anon)).evictions).toEqual([
      { project: 'p', id: anon, aliases: [], from: 3, to: 0 },
    ]);
  });

  it('hands over the links it made, and routes by links learned from other processes without evicting', () => {
    const anon = idOn('anon', 1);
    const login = idOn('user', 3);
    const other = idOn('dev', 2);
    const here = new Router(routesFile(), 4);
    route(here, identify(login, anon));
    expect(here.takeMade()).toEqual([['p', anon, login]]);
    expect(here.takeMade()).toEqual([]);

    const path = routesFile();
    const there = new Router(path, 4);
    there.learn([['p', anon, login]]);
    expect(there.shardOf('p', anon)).toBe(3);
    // Its own link comes back through the topic too: nothing changes, nothing is written.
    const size = readFileSync(path).length;
    there.learn([['p', anon, login]]);
    expect(readFileSync(path).length).toBe(size);
    expect(there.takeMade()).toEqual([]);
    // A later identify here builds on the learned link: the new device joins the login's person.
    expect(route(there, identify(login, other))).toEqual({
      shard: 3,
      evictions: [{ project: 'p', id: other, aliases: [], from: 2, to: 3 }],
    });
    expect(new Router(path, 4).shardOf('p', anon)).toBe(3);
  });
});
