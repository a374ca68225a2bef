import {
  type EventRecord,
  NONE,
  PROP_FALSE,
  PROP_NUMBER,
  PROP_STRING,
  PROP_TRUE,
} from '../bus/event-codec.js';
import { PROP_NUMBER as CH_NUMBER, PROP_STRING as CH_STRING, PROP_BOOLEAN, PROP_NULL } from './insert.js';

/** Columns of `events` in the order `recordRowBinary` writes them (`time` is materialized). */
export const ROW_COLUMNS = [
  'project',
  'event',
  'event_id',
  'distinct_id',
  'time_ms',
  'received_at',
  'session_id',
  'url',
  'path',
  'el_selector',
  'x',
  'y',
  'prop_keys',
  'prop_values',
  'prop_types',
  'prop_numbers',
] as [string, ...string[]];

const TWO_32 = 2 ** 32;
const EMPTY = Buffer.alloc(0);

/** A growable output buffer with the RowBinary primitives. */
class Writer {
  buf = Buffer.allocUnsafe(1 << 16);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** String bytes copied straight from a buffer (the record's string table). */
  bytes(src: Buffer, from: number, to: number): void {
    this.varint(to - from);
    this.ensure(to - from);
    src.copy(this.buf, this.pos, from, to);
    this.pos += to - from;
  }

  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos);
  }

  u8(n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = n;
  }

  u64(n: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(n % TWO_32, this.pos);
    this.buf.writeUInt32LE(Math.floor(n / TWO_32), this.pos + 4);
    this.pos += 8;
  }

  f64(n: number): void {
    this.ensure(8);
    // + 0 turns -0 into 0, as JSON (the import path, the index) sees it.
    this.buf.writeDoubleLE(n + 0, this.pos);
    this.pos += 8;
  }

  /** The bytes written so far, copied out; the writer starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}

const writer = new Writer();

function nullableNumber(n: number | undefined): void {
  if (n === undefined) writer.u8(1);
  else {
    writer.u8(0);
    writer.f64(n);
  }
}
/** Property value slots of the current event, reused across events. */
let slotType = new Uint8Array(64);
let slotNumber = new Float64Array(64);
let slotString = new Uint32Array(64);

/**
 * The record's events as RowBinary rows of the `events` table: strings are copied as bytes
 * from the record's string table, numbers written as they are, so neither Node nor
 * ClickHouse parses text.
 */
export function recordRowBinary(rec: EventRecord): Buffer {
  const b = rec.buf;
  const strings = rec.strings;
  const str = (i: number) => writer.bytes(b, strings.byteStart(i), strings.byteEnd(i));
  const optionalString = (i: number) => (i === NONE ? writer.bytes(EMPTY, 0, 0) : str(i));
  const projectIdx = b.readUInt32LE(1);
  let p = rec.bodyAt;
  for (let e = 0; e < rec.count; e++) {
    const time = b.readDoubleLE(p);
    const received = b.readDoubleLE(p + 8);
    const event = b.readUInt32LE(p + 24);
    const who = b.readUInt32LE(p + 28);
    const session = b.readUInt32LE(p + 32);
    const propsAt = p + 36;
    const count = b.readUInt16LE(propsAt);
    if (count > slotType.length) {
      slotType = new Uint8Array(count);
      slotNumber = new Float64Array(count);
      slotString = new Uint32Array(count);
    }
    // First pass: the hot columns (url, path, selector, x, y) come before the arrays.
    let url = NONE;
    let path = NONE;
    let selector = NONE;
    let x: number | undefined;
    let y: number | undefined;
    let q = propsAt + 2;
    for (let k = 0; k < count; k++) {
      const key = b.readUInt32LE(q);
      const type = b[q + 4]!;
      q += 5;
      slotType[k] = type;
      const name = strings.get(key);
      if (type === PROP_STRING) {
        const v = b.readUInt32LE(q);
        q += 4;
        slotString[k] = v;
        if (name === '$url') url = v;
        else if (name === '$path') path = v;
        else if (name === '$el_selector') selector = v;
      } else if (type === PROP_NUMBER) {
        const num = b.readDoubleLE(q);
        q += 8;
        slotNumber[k] = num;
        if (name === '$x') x = num;
        else if (name === '$y') y = num;
      }
    }
    str(projectIdx);
    str(event);
    writer.bytes(b, rec.ids.byteStart(e), rec.ids.byteEnd(e));
    str(who);
    // UInt64 columns: ingest writes whole milliseconds; other producers might not.
    writer.u64(Math.floor(time));
    writer.u64(Math.floor(received));
    optionalString(session);
    optionalString(url);
    optionalString(path);
    optionalString(selector);
    nullableNumber(x);
    nullableNumber(y);
    writer.varint(count);
    q = propsAt + 2;
    for (let k = 0; k < count; k++) {
      str(b.readUInt32LE(q));
      q += 5 + (slotType[k] === PROP_STRING ? 4 : slotType[k] === PROP_NUMBER ? 8 : 0);
    }
    writer.varint(count);
    for (let k = 0; k < count; k++) {
      const type = slotType[k]!;
      if (type === PROP_STRING) str(slotString[k]!);
      else if (type === PROP_NUMBER) writer.text(String(slotNumber[k]));
      else writer.text(type === PROP_TRUE ? 'true' : type === PROP_FALSE ? 'false' : '');
    }
    writer.varint(count);
    for (let k = 0; k < count; k++) {
      const type = slotType[k]!;
      writer.u8(
        type === PROP_STRING
          ? CH_STRING
          : type === PROP_NUMBER
            ? CH_NUMBER
            : type === PROP_TRUE || type === PROP_FALSE
              ? PROP_BOOLEAN
              : PROP_NULL,
      );
    }
    writer.varint(count);
    for (let k = 0; k < count; k++) writer.f64(slotType[k] === PROP_NUMBER ? slotNumber[k]! : 0);
    p = rec.skipProps(rec.skipProps(q));
  }
  return writer.take();
}
