import { describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord } from '../../src/import/csv.js';

function parse(chunks: string[]): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (const chunk of chunks) parser.push(chunk, out);
  return parser.end(out);
}

const tricky =
  '\uFEFFid,text,n\r\n' +
  '1,"a, b",2\r\n' +
  '2,"say ""hi""",3\n' +
  '3,"multi\r\nline\nfield",4\r\n' +
  '\r\n' +
  '4,,\r' +
  '5,"",""\n' +
  '6,x"y,z\n' +
  '7,"q"tail,8';

const expected: CsvRecord[] = [
  { line: 1, fields: ['id', 'text', 'n'] },
  { line: 2, fields: ['1', 'a, b', '2'] },
  { line: 3, fields: ['2', 'say "hi"', '3'] },
  { line: 4, fields: ['3', 'multi\r\nline\nfield', '4'] },
  { line: 8, fields: ['4', '', ''] },
  { line: 9, fields: ['5', '', ''] },
  { line: 10, fields: ['6', 'x"y', 'z'] },
  { line: 11, fields: ['7', 'qtail', '8'] },
];

describe('CsvParser', () => {
  it('parses quotes, escaped quotes, embedded newlines, CRLF, lone CR, BOM and blank lines', () => {
    expect(parse([tricky])).toEqual(expected);
  });

  it('gives the same records wherever the chunks split, even inside quoted fields and CRLFs', () => {
    for (let cut = 0; cut <= tricky.length; cut++) {
      expect(parse([tricky.slice(0, cut), tricky.slice(cut)]), `cut at ${cut}`).toEqual(expected);
    }
    for (let a = 1; a < tricky.length; a += 3) {
      for (let b = a; b < tricky.length; b += 5) {
        expect(parse([tricky.slice(0, a), tricky.slice(a, b), tricky.slice(b)]), `cuts at ${a},${b}`).toEqual(
          expected,
        );
      }
    }
    expect(parse([...tricky])).toEqual(expected);
  });

  it('handles a trailing newline, a missing one, and a trailing empty field', () => {
    expect(parse(['a,b\n1,2\n'])).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
    ]);
    expect(parse(['a,b\n1,'])).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', ''] },
    ]);
    expect(parse(['a\n\n\n'])).toEqual([{ line: 1, fields: ['a'] }]);
    expect(parse([''])).toEqual([]);
    expect(parse(['\uFEFF'])).toEqual([]);
  });

  it('reports an unterminated quoted field on the line it started', () => {
    expect(parse(['a,b\n1,"open\nstill open'])).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', 'open\nstill open'], error: 'unterminated quoted field' },
    ]);
  });

  it('counts physical lines after records with embedded newlines', () => {
    const records = parse(['h\n"x\r\ny\rz"\nnext\n']);
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
  });
});
