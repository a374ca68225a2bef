import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCondition, type Segment } from '@weft/segments';
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionStore } from '../../src/definitions/store.js';
import { SegmentStore } from '../../src/segments/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stores(): { segments: SegmentStore; definitions: DefinitionStore } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-segment-store-'));
  dirs.push(dir);
  const definitions = new DefinitionStore(join(dir, 'definitions.json'));
  return { segments: new SegmentStore(join(dir, 'segments'), definitions), definitions };
}

let created = 0;
function segment(id: string, definition: unknown): Segment {
  created++;
  return {
    id,
    name: id,
    mode: 'realtime',
    definition: parseCondition(definition),
    created_at: created,
    updated_at: created,
  };
}

describe('SegmentStore', () => {
  it('sends shards the segments behind rule tags before the segments reading those tags', () => {
    const { segments } = stores();
    segments.put('p', segment('readers', { tag: 'paying' }));
    segments.put('p', segment('chain', { segment: 'readers' }));
    segments.put('p', segment('payers', { did: 'buy' }));
    segments.setRule('p', 'paying', 'payers');
    expect(segments.shardDefs('p').map((d) => d.id)).toEqual(['payers', 'readers', 'chain']);
  });

  it('compiles defined events into their event and filters, as currently defined', () => {
    const { segments, definitions } = stores();
    const pressed = segment('pressed', { did: 'Pressed buy', where: [{ prop: '$path', value: '/cart' }] });
    segments.put('p', pressed);
    segments.put('p', segment('other', { not_did: 'buy' }));
    expect(segments.shardDef('p', pressed).plan).toMatchObject({ kind: 'did', event: 'Pressed buy' });
    definitions.put('p', {
      name: 'Pressed buy',
      event: '$click',
      where: [{ prop: '$el_text', value: 'Buy' }],
      created_at: 1,
      updated_at: 1,
    });
    expect(segments.shardDef('p', pressed).plan).toEqual({
      kind: 'did',
      event: '$click',
      where: [
        { prop: '$el_text', op: 'eq', value: 'Buy' },
        { prop: '$path', op: 'eq', value: '/cart' },
      ],
      window: { kind: 'ever' },
      min: 1,
      max: Infinity,
    });
    expect(segments.eventReaders('p', 'Pressed buy').map((s) => s.id)).toEqual(['pressed']);
    expect(segments.eventReaders('p', 'buy').map((s) => s.id)).toEqual(['other']);
    // Another project has no such definition.
    expect(segments.context('q').events('Pressed buy')).toBeUndefined();
  });

  it('reads only its own rule tags and definitions, whatever the name', () => {
    const { segments } = stores();
    const { rules, events } = segments.context('p');
    expect(rules('constructor')).toBeUndefined();
    expect(events('constructor')).toBeUndefined();
  });
});
