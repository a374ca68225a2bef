import { describe, expect, it } from 'vitest';
import { ValueTable } from '../../src/index/value-table.js';

function idOf(table: ValueTable, s: string): number {
  // Surrounding bytes prove only [start, end) is read.
  const buf = Buffer.concat([Buffer.from('xx'), Buffer.from(s, 'utf8'), Buffer.from('yy')]);
  return table.utf8Id(buf, 2, buf.length - 2);
}

describe('ValueTable.utf8Id', () => {
  it('finds a string from its bytes under the id stringId gave it, and the reverse', () => {
    const t = new ValueTable();
    const a = t.stringId('checkout');
    expect(idOf(t, 'checkout')).toBe(a);
    const b = idOf(t, '/pricing');
    expect(t.stringId('/pricing')).toBe(b);
    expect(t.get(b)).toBe('/pricing');
    expect(idOf(t, '')).toBe(t.stringId(''));
  });

  it('interns non-ASCII strings once, whichever way they arrive', () => {
    const t = new ValueTable();
    const zh = idOf(t, '购物车');
    expect(t.stringId('购物车')).toBe(zh);
    expect(idOf(t, '购物车')).toBe(zh);
    const emoji = t.stringId('🛒 cart');
    expect(idOf(t, '🛒 cart')).toBe(emoji);
    expect(t.get(zh)).toBe('购物车');
  });

  it('tells apart strings of equal hash slot and length, and keeps every id through growth', () => {
    const t = new ValueTable();
    const ids = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const s = `user-${i.toString(36)}`;
      ids.set(s, i % 2 === 0 ? idOf(t, s) : t.stringId(s));
    }
    for (const [s, id] of ids) {
      expect(idOf(t, s)).toBe(id);
      expect(t.find(s)).toBe(id);
    }
    expect(new Set(ids.values()).size).toBe(ids.size);
    expect(t.find('user-never')).toBe(-1);
    expect(t.find('购物')).toBe(-1);
  });
});
