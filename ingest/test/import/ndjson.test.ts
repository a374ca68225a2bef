import { describe, expect, it } from 'vitest';
import { type NdjsonLine, NdjsonParser } from '../../src/import/ndjson.js';

function parse(chunks: string[]): NdjsonLine[] {
  const parser = new NdjsonParser();
  const out: NdjsonLine[] = [];
  for (const chunk of chunks) parser.push(chunk, out);
  return parser.end(out);
}

const text = '\uFEFF{"a":1}\r\n\n{"b":"x\\ny"}\n  \nnot json\n[1]\n{"c":true}';

describe('NdjsonParser', () => {
  it('parses each line, skips blank ones and reports bad JSON by line', () => {
    const lines = parse([text]);
    expect(lines.map((l) => l.line)).toEqual([1, 3, 5, 6, 7]);
    expect(lines[0]).toEqual({ line: 1, value: { a: 1 } });
    expect(lines[1]).toEqual({ line: 3, value: { b: 'x\ny' } });
    expect(lines[2]).toMatchObject({ line: 5, error: expect.stringMatching(/^JSON parse failed: /) });
    expect(lines[3]).toEqual({ line: 6, value: [1] });
    expect(lines[4]).toEqual({ line: 7, value: { c: true } });
  });

  it('gives the same lines wherever the chunks split', () => {
    const expected = parse([text]);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(parse([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toEqual(expected);
    }
    expect(parse([...text])).toEqual(expected);
  });
});
