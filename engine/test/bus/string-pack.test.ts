import { describe, expect, it } from 'vitest';
import { packStrings } from '../../src/bus/string-pack.js';

function unpack(strings: readonly string[]): string[] {
  const { bytes, offsets } = packStrings(strings);
  expect(offsets).toHaveLength(strings.length + 1);
  return strings.map((_, i) => bytes.toString('utf8', offsets[i], offsets[i + 1]));
}

describe('packStrings', () => {
  it('packs ASCII, Latin-1, CJK, emoji and empty strings to their UTF-8 bytes', () => {
    const ascii = ['$pageview', '', 'u-1', 'https://example.com/?q=1'];
    expect(unpack(ascii)).toEqual(ascii);
    expect(packStrings(ascii).bytes.toString('latin1')).toBe(ascii.join(''));
    const mixed = ['café', '买 ✓', '', '🎉 done', 'plain'];
    expect(unpack(mixed)).toEqual(mixed);
    expect(packStrings(mixed).bytes.length).toBe(Buffer.byteLength(mixed.join('')));
    expect(unpack([])).toEqual([]);
  });
});
