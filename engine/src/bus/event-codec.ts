import type { Properties, PropValue, WeftEvent } from '@weft/core';
import { type PackedStrings, packStrings } from './string-pack.js';

/**
 * Binary record of a batch of events for one project and partition: the bus format.
 * Strings repeat (event names, property keys, ids, values), so each record carries a
 * table of its distinct strings and events refer to them by index; a consumer interns
 * each distinct string once per record instead of once per occurrence, and builds no
 * event objects. Event ids sit in their own table so the index (which only needs their
 * hashes, computed by the producer) never decodes them.
 *
 * Layout, little-endian:
 *   u8 RECORD_EVENTS · u32 project string index · u32 event count
 *   strings:  u32 count · u32 total bytes · u32 end offsets[count] · utf8 bytes
 *   event ids: same layout
 *   per event: f64 time · f64 received_at · u32 id hash hi · u32 id hash lo ·
 *              u32 event · u32 distinct_id · u32 session (NONE when absent) ·
 *              props · $set · $set_once
 *   props: u16 count, then per entry u32 key · u8 type · value (string: u32 index;
 *          number: f64; true/false/null: nothing)
 */
export const RECORD_EVENTS = 1;
/** A control record (eviction, moved history): the byte is followed by msgpack. */
export const RECORD_CONTROL = 2;
export const NONE = 0xffffffff;

const T_STRING = 0;
const T_NUMBER = 1;
const T_TRUE = 2;
const T_FALSE = 3;
const T_NULL = 4;

/** Reusable encoder: one per producer thread; its buffers and string map survive between records. */
export class EventEncoder {
  private buf = Buffer.allocUnsafe(1 << 20);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;
  /** String -> its index in the current record's table. */
  private readonly strings = new Map<string, number>();
  private readonly stringList: string[] = [];

  encode(project: string, events: readonly WeftEvent[], hashes: Uint32Array): Uint8Array {
    // A map kept across records would hold every id and URL ever seen: cleared, it stays in cache.
    this.strings.clear();
    this.stringList.length = 0;
    this.pos = 0;
    const projectIdx = this.str(project);
    // Events first into the body area; the tables are written in front once known.
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.ensure(36);
      const v = this.view;
      const at = this.pos;
      v.setFloat64(at, e.time, true);
      v.setFloat64(at + 8, e.received_at, true);
      v.setUint32(at + 16, hashes[i * 2]!, true);
      v.setUint32(at + 20, hashes[i * 2 + 1]!, true);
      v.setUint32(at + 24, this.str(e.event), true);
      v.setUint32(at + 28, this.str(e.distinct_id), true);
      v.setUint32(at + 32, e.session_id === undefined ? NONE : this.str(e.session_id), true);
      this.pos = at + 36;
      this.props(e.properties);
      this.props(e.$set);
      this.props(e.$set_once);
    }
    const ids: string[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) ids[i] = events[i]!.event_id;
    const stringTable = new TableText(this.stringList);
    const idTable = new TableText(ids);
    const out = new Uint8Array(9 + stringTable.size + idTable.size + this.pos);
    const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    view[0] = RECORD_EVENTS;
    view.writeUInt32LE(projectIdx, 1);
    view.writeUInt32LE(events.length, 5);
    stringTable.write(view, 9);
    idTable.write(view, 9 + stringTable.size);
    this.buf.copy(view, 9 + stringTable.size + idTable.size, 0, this.pos);
    return out;
  }

  private str(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) {
      i = this.stringList.length;
      this.stringList.push(s);
      this.strings.set(s, i);
    }
    return i;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  private props(p: Properties | undefined): void {
    this.ensure(2);
    const countAt = this.pos;
    this.pos += 2;
    let n = 0;
    if (p) {
      for (const key in p) {
        const v = p[key] as PropValue;
        this.ensure(13);
        const view = this.view;
        let at = this.pos;
        view.setUint32(at, this.str(key), true);
        if (typeof v === 'string') {
          view.setUint8(at + 4, T_STRING);
          view.setUint32(at + 5, this.str(v), true);
          at += 9;
        } else if (typeof v === 'number') {
          view.setUint8(at + 4, T_NUMBER);
          view.setFloat64(at + 5, v, true);
          at += 13;
        } else {
          view.setUint8(at + 4, v === null ? T_NULL : v ? T_TRUE : T_FALSE);
          at += 5;
        }
        this.pos = at;
        n++;
      }
    }
    this.view.setUint16(countAt, n, true);
  }
}

/** A string table to write (layout in the file comment). */
class TableText {
  private readonly packed: PackedStrings;
  private readonly count: number;

  constructor(strings: readonly string[]) {
    this.packed = packStrings(strings);
    this.count = strings.length;
  }

  get size(): number {
    return 8 + this.count * 4 + this.packed.bytes.length;
  }

  write(out: Buffer, at: number): void {
    const { bytes, offsets } = this.packed;
    out.writeUInt32LE(this.count, at);
    out.writeUInt32LE(bytes.length, at + 4);
    let offsetAt = at + 8;
    for (let i = 1; i <= this.count; i++) {
      out.writeUInt32LE(offsets[i]!, offsetAt);
      offsetAt += 4;
    }
    bytes.copy(out, offsetAt);
  }
}

/** A string table inside a record: strings are decoded on demand, at most once each. */
export class StringTable {
  readonly count: number;
  private readonly offsets: number;
  private readonly data: number;
  private readonly cache: Array<string | undefined>;

  constructor(
    private readonly buf: Buffer,
    at: number,
  ) {
    this.count = buf.readUInt32LE(at);
    const total = buf.readUInt32LE(at + 4);
    this.offsets = at + 8;
    this.data = this.offsets + this.count * 4;
    this.end = this.data + total;
    this.cache = new Array(this.count);
  }

  readonly end: number;

  /** Where string i's UTF-8 bytes start in the record buffer (they end at `byteEnd(i)`). */
  byteStart(i: number): number {
    return this.data + (i === 0 ? 0 : this.buf.readUInt32LE(this.offsets + (i - 1) * 4));
  }

  byteEnd(i: number): number {
    return this.data + this.buf.readUInt32LE(this.offsets + i * 4);
  }

  get(i: number): string {
    let s = this.cache[i];
    if (s === undefined) {
      const from = i === 0 ? 0 : this.buf.readUInt32LE(this.offsets + (i - 1) * 4);
      const to = this.buf.readUInt32LE(this.offsets + i * 4);
      s = this.buf.toString('utf8', this.data + from, this.data + to);
      this.cache[i] = s;
    }
    return s;
  }
}

/** Receives the events of a record without objects being built for them. */
export interface EventVisitor {
  /** Called once per event before its properties; return false to skip the event. */
  event(time: number, hi: number, lo: number, event: number, distinctId: number, session: number): boolean;
  /** A property of the current event: `str` is a string index for strings, else NONE. */
  prop(key: number, type: number, str: number, num: number): void;
  /** Called after the properties, with the offset of $set/$set_once for lazy decoding. */
  end(setsAt: number): void;
}

export const PROP_STRING = T_STRING;
export const PROP_NUMBER = T_NUMBER;
export const PROP_TRUE = T_TRUE;
export const PROP_FALSE = T_FALSE;
export const PROP_NULL = T_NULL;

/** A decoded view of an events record. */
export class EventRecord {
  readonly buf: Buffer;
  readonly strings: StringTable;
  readonly ids: StringTable;
  readonly count: number;
  readonly project: string;
  /** Offset of the first event (after the string and id tables). */
  readonly bodyAt: number;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.count = this.buf.readUInt32LE(5);
    this.strings = new StringTable(this.buf, 9);
    this.ids = new StringTable(this.buf, this.strings.end);
    this.bodyAt = this.ids.end;
    this.project = this.strings.get(this.buf.readUInt32LE(1));
  }

  /** Walks every event in order. */
  visit(v: EventVisitor): void {
    const b = this.buf;
    let p = this.bodyAt;
    for (let i = 0; i < this.count; i++) {
      const time = b.readDoubleLE(p);
      const hi = b.readUInt32LE(p + 16);
      const lo = b.readUInt32LE(p + 20);
      const ev = b.readUInt32LE(p + 24);
      const who = b.readUInt32LE(p + 28);
      const session = b.readUInt32LE(p + 32);
      p += 36;
      const keep = v.event(time, hi, lo, ev, who, session);
      const n = b.readUInt16LE(p);
      p += 2;
      for (let k = 0; k < n; k++) {
        const key = b.readUInt32LE(p);
        const type = b[p + 4]!;
        p += 5;
        if (type === T_STRING) {
          if (keep) v.prop(key, type, b.readUInt32LE(p), 0);
          p += 4;
        } else if (type === T_NUMBER) {
          if (keep) v.prop(key, type, NONE, b.readDoubleLE(p));
          p += 8;
        } else if (keep) v.prop(key, type, NONE, 0);
      }
      const setsAt = p;
      p = this.skipProps(this.skipProps(p));
      if (keep) v.end(setsAt);
    }
  }

  /** Offset just past the property block at `p`. */
  skipProps(p: number): number {
    const b = this.buf;
    const n = b.readUInt16LE(p);
    p += 2;
    for (let k = 0; k < n; k++) {
      const type = b[p + 4]!;
      p += 5 + (type === T_STRING ? 4 : type === T_NUMBER ? 8 : 0);
    }
    return p;
  }

  /** Reads a property block (at `p`) into an object; returns it and the offset after it. */
  readProps(p: number): [Properties | undefined, number] {
    const b = this.buf;
    const n = b.readUInt16LE(p);
    p += 2;
    if (n === 0) return [undefined, p];
    const out: Properties = {};
    for (let k = 0; k < n; k++) {
      const key = this.strings.get(b.readUInt32LE(p));
      const type = b[p + 4]!;
      p += 5;
      if (type === T_STRING) {
        out[key] = this.strings.get(b.readUInt32LE(p));
        p += 4;
      } else if (type === T_NUMBER) {
        out[key] = b.readDoubleLE(p);
        p += 8;
      } else out[key] = type === T_TRUE ? true : type === T_FALSE ? false : null;
    }
    return [out, p];
  }

  /** Full events, for sinks that store them (e.g. ClickHouse). */
  toEvents(): WeftEvent[] {
    const b = this.buf;
    const out: WeftEvent[] = [];
    let p = this.bodyAt;
    for (let i = 0; i < this.count; i++) {
      const session = b.readUInt32LE(p + 32);
      const e: WeftEvent = {
        event_id: this.ids.get(i),
        project: this.project,
        event: this.strings.get(b.readUInt32LE(p + 24)),
        distinct_id: this.strings.get(b.readUInt32LE(p + 28)),
        time: b.readDoubleLE(p),
        received_at: b.readDoubleLE(p + 8),
        properties: {},
      };
      if (session !== NONE) e.session_id = this.strings.get(session);
      let props: Properties | undefined;
      let set: Properties | undefined;
      let once: Properties | undefined;
      [props, p] = this.readProps(p + 36);
      [set, p] = this.readProps(p);
      [once, p] = this.readProps(p);
      e.properties = props ?? {};
      if (set) e.$set = set;
      if (once) e.$set_once = once;
      out.push(e);
    }
    return out;
  }
}
