import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeftEvent } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectIndex } from '../../src/index/project-index.js';
import { loadSnapshot, readManifest, writeSnapshot } from '../../src/index/snapshot.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
let seq = 0;
function ev(distinct_id: string, event: string, time: number, extra: Partial<WeftEvent> = {}): WeftEvent {
  return {
    event_id: `e${seq++}`,
    project: 'p',
    event,
    distinct_id,
    time,
    received_at: time,
    properties: {},
    ...extra,
  };
}

function view(idx: ProjectIndex) {
  const users = [...idx.ids.keys()].sort();
  return users.map((id) => ({
    id,
    no: idx.ids.get(id),
    timeline: idx.timeline(id),
    profile: idx.profile(id),
  }));
}

describe('snapshots', () => {
  it('rebuild the same index from deltas, with merges, evictions and profiles in between', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-snap-'));
    dirs.push(dir);
    const idx = new ProjectIndex('p');
    idx.applyEvents([
      ev('a', 'view', 1000, { properties: { url: '/x', n: 2.5, flag: false } }),
      ev('b', 'view', 90_000_000, { session_id: 's' }),
      ev('gone', 'view', 5),
    ]);
    let manifest = writeSnapshot(dir, [idx], readManifest(dir), 100);
    idx.applyEvents([
      ev('c', 'buy', 2000, { $set: { plan: 'pro' } }),
      ev('b', '$identify', 3000, { properties: { $anon_distinct_id: 'a' } }),
    ]);
    idx.evict('gone');
    manifest = writeSnapshot(dir, [idx], manifest, 200);
    manifest = writeSnapshot(dir, [idx], manifest, 300);
    expect(manifest.deltas.length).toBe(2);
    expect(readManifest(dir).appliedOffset).toBe(300);

    const loaded = loadSnapshot(dir, readManifest(dir)).get('p')!;
    expect(view(loaded)).toEqual(view(idx));
    expect(loaded.rowCount).toBe(idx.rowCount);
    const buys = loaded.eventDays.get(loaded.values.find('buy'))!.get(0)!;
    expect(buys.users.toArray()).toEqual([loaded.ids.get('c')]);
    const views = loaded.eventDays.get(loaded.values.find('view'))!;
    expect(views.get(0)!.users.toArray()).toEqual([loaded.ids.get('b')]);
    // A loaded index keeps deduplicating the events it already holds.
    expect(loaded.applyEvents([ev('c', 'buy', 2000, { event_id: 'e3' })])).toBe(0);
  });
});
