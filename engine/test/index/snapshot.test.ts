import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectIndex } from '../../src/index/project-index.js';
import { loadSnapshot, readManifest, writeSnapshot } from '../../src/index/snapshot.js';
import { ev } from './events.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function view(idx: ProjectIndex) {
  const users = [...idx.ids.keys()].sort();
  return users.map((id) => ({
    id,
    no: idx.ids.get(id),
    person: idx.names[idx.ids.get(id)!],
    ids: [...idx.idsOf(idx.ids.get(id)!)].sort(),
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

  it('keep a chain of identifies: every id, and the last login as the person', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-snap-'));
    dirs.push(dir);
    const idx = new ProjectIndex('p');
    idx.applyEvents([
      ev('anon', 'view', 1000),
      ev('b', '$identify', 2000, { properties: { $anon_distinct_id: 'anon' } }),
    ]);
    let manifest = writeSnapshot(dir, [idx], readManifest(dir), 10);
    // c is new: the person is renamed from b to c. Then d (with events) absorbs it.
    idx.applyEvents([
      ev('c', '$identify', 3000, { properties: { $anon_distinct_id: 'b' } }),
      ev('d', 'view', 3500),
      ev('d', '$identify', 4000, { properties: { $anon_distinct_id: 'c' } }),
      ev('e', 'view', 5000),
      ev('f', '$identify', 6000, { properties: { $anon_distinct_id: 'e' } }),
    ]);
    manifest = writeSnapshot(dir, [idx], manifest, 20);
    expect(idx.names[idx.ids.get('anon')!]).toBe('d');
    expect(idx.names[idx.ids.get('e')!]).toBe('f');

    const loaded = loadSnapshot(dir, manifest).get('p')!;
    expect(view(loaded)).toEqual(view(idx));
    expect([...loaded.multiIdUsers()].sort()).toEqual([...idx.multiIdUsers()].sort());
  });
});
