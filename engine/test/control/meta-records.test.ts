import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCondition, type Segment } from '@weft/segments';
import { afterEach, describe, expect, it } from 'vitest';
import type { DefinitionChange } from '../../src/control/definition-change.js';
import { loadChanges, storedChanges } from '../../src/control/definition-snapshot.js';
import { encodeChange, MetaDecoder } from '../../src/control/meta-records.js';
import { DefinitionStore } from '../../src/definitions/store.js';
import type { TopicRecord } from '../../src/kafka/meta-log.js';
import { SegmentStore } from '../../src/segments/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stores(): { segments: SegmentStore; definitions: DefinitionStore } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-meta-records-'));
  dirs.push(dir);
  const definitions = new DefinitionStore(join(dir, 'definitions.json'));
  return { segments: new SegmentStore(join(dir, 'segments'), definitions), definitions };
}

function realtime(id: string, definition: unknown, at = 1): Segment {
  return {
    id,
    name: id,
    mode: 'realtime',
    definition: parseCondition(definition),
    created_at: at,
    updated_at: at,
  };
}

function staticSegment(id: string): Segment {
  return { id, name: id, mode: 'static', created_at: 1, updated_at: 1 };
}

const click = {
  name: 'Clicked buy',
  event: '$click',
  where: [{ prop: '$el_selector', op: 'eq' as const, value: '#buy' }],
  created_at: 1,
  updated_at: 1,
};

/** A log's records after compaction: each key's latest value, in that value's order; deleted keys gone. */
function compact(records: TopicRecord[]): TopicRecord[] {
  const latest = new Map<string, Buffer>();
  for (const r of records) {
    latest.delete(r.key);
    if (r.value) latest.set(r.key, r.value);
  }
  return [...latest].map(([key, value]) => ({ key, value }));
}

/** Writes changes the way SharedDefinitions does: encoded against what was applied so far. */
function writeAll(changes: DefinitionChange[], decoder = new MetaDecoder()): TopicRecord[] {
  const log: TopicRecord[] = [];
  for (const c of changes) {
    const records = encodeChange(c, decoder.listVersion);
    for (const r of records) decoder.take(r);
    log.push(...records);
  }
  return log;
}

function readAll(records: TopicRecord[]): DefinitionChange[] {
  const decoder = new MetaDecoder();
  return records.map((r) => decoder.take(r)).filter((c) => c !== undefined);
}

describe('definitions topic records', () => {
  it('read back as the changes written', () => {
    const changes: DefinitionChange[] = [
      { type: 'event', project: 'p', definition: click },
      { type: 'segment', project: 'p', segment: realtime('buyers', { did: 'buy' }) },
      { type: 'rule', project: 'p', tag: 'paying', segment: 'buyers' },
      { type: 'rule', project: 'p', tag: 'paying', segment: undefined },
      { type: 'segment-deleted', project: 'p', id: 'buyers' },
      { type: 'event-deleted', project: 'p', name: 'Clicked buy' },
    ];
    expect(readAll(writeAll(changes))).toEqual(changes);
  });

  it('carry a static list too long for one record in chunks, and drop the chunks it replaces', () => {
    const members = Array.from({ length: 300_000 }, (_, i) => `static-user-${i}`);
    const first: DefinitionChange = { type: 'static-list', project: 'p', id: 'vip', members, updated_at: 2 };
    const second: DefinitionChange = {
      type: 'static-list',
      project: 'p',
      id: 'vip',
      members: ['a', 'b'],
      updated_at: 3,
    };
    const decoder = new MetaDecoder();
    const created = writeAll(
      [{ type: 'segment', project: 'p', segment: staticSegment('vip') }, first],
      decoder,
    );
    // The segment, several chunks, then the header.
    expect(created.length).toBeGreaterThan(4);
    expect(readAll(created)[1]).toEqual(first);

    const log = [...created, ...writeAll([second], decoder)];
    expect(readAll(compact(log))).toEqual([
      { type: 'segment', project: 'p', segment: staticSegment('vip') },
      second,
    ]);
    // Only the segment, the header and the new version's single chunk remain.
    expect(compact(log)).toHaveLength(3);

    const deleted = [...log, ...writeAll([{ type: 'segment-deleted', project: 'p', id: 'vip' }], decoder)];
    expect(compact(deleted)).toEqual([]);
  });

  it('rebuild a process’s stores, replacing stale ones but keeping its webhooks', () => {
    const source = stores();
    source.definitions.put('p', click);
    source.segments.put('p', realtime('clickers', { did: 'Clicked buy' }, 1));
    source.segments.put('p', realtime('readers', { tag: 'paying' }, 2));
    source.segments.put('p', realtime('buyers', { did: 'buy' }, 3));
    source.segments.setRule('p', 'paying', 'buyers');
    source.segments.put('q', staticSegment('vip'));
    source.segments.setStaticMembers('q', 'vip', ['a', 'b']);
    const seed = storedChanges(source);
    // Segments come after what they read, so shards following the topic live can evaluate them.
    const order = seed.flatMap((c) => (c.type === 'segment' ? [c.segment.id] : []));
    expect(order.indexOf('buyers')).toBeLessThan(order.indexOf('readers'));

    const target = stores();
    target.segments.put('p', realtime('gone', { did: 'old' }));
    target.definitions.put('r', { ...click, name: 'gone' });
    target.segments.putWebhook('p', { id: 'wh_1', url: 'http://127.0.0.1:1/hook', created_at: 1 });
    loadChanges(target, readAll(compact(writeAll(seed))));

    for (const project of ['p', 'q']) {
      expect(target.segments.list(project)).toEqual(source.segments.list(project));
      expect(target.segments.rules(project)).toEqual(source.segments.rules(project));
    }
    expect(target.segments.get('p', 'gone')).toBeUndefined();
    expect(target.definitions.list('p')).toEqual([click]);
    expect(target.definitions.list('r')).toEqual([]);
    expect(target.segments.staticMembers('q', 'vip')).toEqual(['a', 'b']);
    expect(target.segments.webhooks('p').map((h) => h.id)).toEqual(['wh_1']);
  });
});
