import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Definition, DefinitionStore } from '../../src/definitions/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const buy: Definition = {
  name: 'Clicked buy',
  event: '$click',
  where: [{ prop: '$el_selector', value: 'button.buy' }],
  created_at: 1,
  updated_at: 1,
};

describe('DefinitionStore', () => {
  it('expands defined names into their event and filters, keeping the query’s own filters', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-defs-'));
    dirs.push(dir);
    const store = new DefinitionStore(join(dir, 'definitions.json'));
    store.put('p', buy);
    expect(
      store.expand('p', [
        { event: 'Clicked buy', where: [{ prop: '$path', value: '/x' }] },
        { event: 'signup' },
      ]),
    ).toEqual([
      {
        event: '$click',
        where: [
          { prop: '$el_selector', value: 'button.buy' },
          { prop: '$path', value: '/x' },
        ],
      },
      { event: 'signup' },
    ]);
    expect(store.expand('other', [{ event: 'Clicked buy' }])).toEqual([{ event: 'Clicked buy' }]);
    // Durable: a new store on the same file knows it; deletes persist too.
    expect(new DefinitionStore(join(dir, 'definitions.json')).get('p', 'Clicked buy')).toEqual(buy);
    expect(store.delete('p', 'Clicked buy')).toBe(true);
    expect(store.delete('p', 'Clicked buy')).toBe(false);
    expect(new DefinitionStore(join(dir, 'definitions.json')).list('p')).toEqual([]);
  });
});
