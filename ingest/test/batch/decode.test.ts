import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeBody } from '../../src/batch/decode.js';
import { weftError } from '../helpers.js';

const body = { sent_at: 1, events: [{ event: 'a', distinct_id: 'u', properties: { n: 1.5, s: '中文' } }] };
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('decodeBody', () => {
  it('decodes JSON and beacon (text/plain JSON) bodies, with or without a BOM', () => {
    expect(decodeBody(utf8(JSON.stringify(body)), 'json')).toEqual(body);
    expect(decodeBody(utf8(JSON.stringify(body)), 'beacon')).toEqual(body);
    expect(decodeBody(utf8(`\uFEFF${JSON.stringify(body)}`), 'json')).toEqual(body);
  });

  it('decodes msgpack, also from a view into a larger buffer', () => {
    expect(decodeBody(pack(body), 'msgpack')).toEqual(body);
    const packed = pack(body);
    const padded = new Uint8Array(packed.length + 8);
    padded.set(packed, 4);
    expect(decodeBody(padded.subarray(4, 4 + packed.length), 'msgpack')).toEqual(body);
  });

  it('throws 400 invalid saying which parser failed', () => {
    const json = weftError(() => decodeBody(utf8('{"events": ['), 'json'));
    expect(json.status).toBe(400);
    expect(json.code).toBe('invalid');
    expect(json.message).toMatch(/^body: JSON parse failed: /);
    expect(json.details).toEqual({ field: 'body' });
    expect(weftError(() => decodeBody(new Uint8Array(0), 'beacon')).message).toMatch(
      /^body: JSON parse failed/,
    );
    const msgpack = weftError(() => decodeBody(Uint8Array.of(0x92, 0x01), 'msgpack'));
    expect(msgpack.status).toBe(400);
    expect(msgpack.message).toMatch(/^body: msgpack parse failed: /);
  });
});
