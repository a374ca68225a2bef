import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeftEvent } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEncoder, EventRecord } from '../../src/bus/event-codec.js';
import { applyRecord } from '../../src/index/apply-record.js';
import { eventIdHash } from '../../src/index/dedup-table.js';
import { ProjectIndex } from '../../src/index/project-index.js';
import { loadSnapshot, readManifest, writeSnapshot } from '../../src/index/snapshot.js';
import { ev } from './events.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let clock = 1_000;
const at = (distinct_id: string, event: string, extra: Partial<WeftEvent> = {}) =>
  ev(distinct_id, event, clock++, extra);

function record(events: WeftEvent[]): EventRecord {
  const hashes = new Uint32Array(events.length * 2);
  for (let i = 0; i < events.length; i++) hashes.set(eventIdHash('p', events[i]!.event_id), i * 2);
  return new EventRecord(new EventEncoder().encode('p', events, hashes));
}

describe('applyRecord', () => {
  it('collects the events of departed ids for their partition instead of applying them', () => {
    const idx = new ProjectIndex('p');
    applyRecord(idx, record([at('anon', 'browse')]));
    // The anonymous id was identified on partition 3: its person leaves, its id is remembered.
    expect(idx.evict('anon', 3)?.events.map((e) => e.event)).toEqual(['browse']);
    const late = at('anon', 'buy', {
      session_id: 's1',
      properties: { price: 5, ok: true, tag: 'x', none: null },
    });
    const result = applyRecord(
      idx,
      record([
        late,
        at('other', 'view'),
        at('anon', 'set', { $set: { plan: 'pro' }, $set_once: { first: 'a' } }),
        at('anon', 'set', { $set: { plan: 'max' }, $set_once: { first: 'b' } }),
      ]),
    );
    expect(result.applied).toBe(1);
    expect(idx.ids.has('anon')).toBe(false);
    expect(result.forwards).toHaveLength(1);
    const [f] = result.forwards;
    const [hi, lo] = eventIdHash('p', late.event_id);
    expect(f).toMatchObject({ id: 'anon', to: 3, set: { plan: 'max' }, once: { first: 'a' } });
    expect(f!.events[0]).toEqual({
      event: 'buy',
      time: late.time,
      session_id: 's1',
      properties: { price: 5, ok: true, tag: 'x', none: null },
      idHi: hi,
      idLo: lo,
    });
    expect(f!.events.map((e) => e.event)).toEqual(['buy', 'set', 'set']);
    // Without a partition (embedded mode: one router), an eviction remembers nothing.
    applyRecord(idx, record([at('solo', 'view')]));
    idx.evict('solo');
    expect(idx.departed.has('solo')).toBe(false);
  });

  it('forgets a departed id that comes back, and snapshots keep what departed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-departed-'));
    dirs.push(dir);
    const idx = new ProjectIndex('p');
    applyRecord(idx, record([at('a', 'view'), at('b', 'view')]));
    idx.evict('a', 1);
    idx.evict('b', 2);
    let manifest = writeSnapshot(dir, [idx], readManifest(dir), 10);
    // b's person moves back here later (a chain of identifies): its events apply again.
    idx.applyMoved('b', { ids: [], events: [], profile: undefined });
    expect(idx.departed.has('b')).toBe(false);
    expect(applyRecord(idx, record([at('b', 'again')])).forwards).toEqual([]);
    manifest = writeSnapshot(dir, [idx], manifest, 20);
    const loaded = loadSnapshot(dir, readManifest(dir)).get('p')!;
    expect([...loaded.departed]).toEqual([['a', 1]]);
  });
});
