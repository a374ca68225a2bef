import { NONE, RECORD_CONTROL, RECORD_EVENTS } from './event-codec.js';

/** What a consumer may do with a record read off a bus it does not fully trust (Kafka). */
export type RecordCheck =
  | { ok: true }
  /** The record cannot be read at all: it goes to the dead-letter topic whole. */
  | { ok: false; reason: string }
  /** Readable, but some events are unusable: those go to the dead-letter topic. */
  | { ok: 'partial'; bad: Array<{ index: number; reason: string }> };

const OK: RecordCheck = { ok: true };

class Malformed extends Error {}

/** Bounds of a string table: [count, offsets at, data at, end]. */
function table(b: Buffer, at: number, what: string): [number, number, number, number] {
  if (at + 8 > b.length) throw new Malformed(`${what} table header runs past the record`);
  const count = b.readUInt32LE(at);
  const total = b.readUInt32LE(at + 4);
  const offsets = at + 8;
  const data = offsets + count * 4;
  const end = data + total;
  if (end > b.length)
    throw new Malformed(`${what} table (${count} strings, ${total} bytes) runs past the record`);
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const o = b.readUInt32LE(offsets + i * 4);
    if (o < prev || o > total) throw new Malformed(`${what} table offset ${i} is out of order`);
    prev = o;
  }
  return [count, offsets, data, end];
}

function props(b: Buffer, p: number, strings: number, where: string): number {
  if (p + 2 > b.length) throw new Malformed(`${where}: property block runs past the record`);
  const n = b.readUInt16LE(p);
  p += 2;
  for (let k = 0; k < n; k++) {
    if (p + 5 > b.length) throw new Malformed(`${where}: property ${k} runs past the record`);
    if (b.readUInt32LE(p) >= strings)
      throw new Malformed(`${where}: property ${k} key is not in the string table`);
    const type = b[p + 4]!;
    p += 5;
    if (type === 0) {
      if (p + 4 > b.length || b.readUInt32LE(p) >= strings)
        throw new Malformed(`${where}: property ${k} value is not in the string table`);
      p += 4;
    } else if (type === 1) p += 8;
    else if (type > 4) throw new Malformed(`${where}: property ${k} has unknown type ${type}`);
  }
  if (p > b.length) throw new Malformed(`${where}: property block runs past the record`);
  return p;
}

function checkEvents(b: Buffer): RecordCheck {
  if (b.length < 9) throw new Malformed('events record is shorter than its header');
  const count = b.readUInt32LE(5);
  const [strings, offsets, , stringsEnd] = table(b, 9, 'string');
  const stringLength = (i: number) =>
    b.readUInt32LE(offsets + i * 4) - (i === 0 ? 0 : b.readUInt32LE(offsets + (i - 1) * 4));
  const [ids, , , idsEnd] = table(b, stringsEnd, 'event id');
  if (ids !== count) throw new Malformed(`record holds ${count} events but ${ids} event ids`);
  const project = b.readUInt32LE(1);
  if (project >= strings || stringLength(project) === 0) throw new Malformed('project is missing or empty');
  const bad: Array<{ index: number; reason: string }> = [];
  let p = idsEnd;
  for (let i = 0; i < count; i++) {
    const where = `event ${i}`;
    if (p + 36 > b.length) throw new Malformed(`${where} runs past the record`);
    const time = b.readDoubleLE(p);
    const event = b.readUInt32LE(p + 24);
    const who = b.readUInt32LE(p + 28);
    const session = b.readUInt32LE(p + 32);
    if (event >= strings || who >= strings || (session !== NONE && session >= strings))
      throw new Malformed(`${where} refers to a string the record does not hold`);
    if (!Number.isFinite(time) || time < 0 || time > Number.MAX_SAFE_INTEGER)
      bad.push({ index: i, reason: `time is not a valid epoch millisecond value (${time})` });
    else if (stringLength(event) === 0) bad.push({ index: i, reason: 'event name is empty' });
    else if (stringLength(who) === 0) bad.push({ index: i, reason: 'distinct_id is empty' });
    p = props(
      b,
      props(b, props(b, p + 36, strings, where), strings, `${where} $set`),
      strings,
      `${where} $set_once`,
    );
  }
  if (p !== b.length) throw new Malformed(`record has ${b.length - p} trailing bytes`);
  return bad.length === 0 ? OK : { ok: 'partial', bad };
}

/**
 * Checks a bus record's structure before a shard applies it: every offset in bounds, every
 * string reference inside its table, every event usable. Costs a walk without allocation.
 * Control records are msgpack and are checked by their reader.
 */
export function checkRecord(bytes: Uint8Array): RecordCheck {
  if (bytes.length === 0) return { ok: false, reason: 'empty record' };
  const kind = bytes[0];
  if (kind === RECORD_CONTROL) return OK;
  if (kind !== RECORD_EVENTS) return { ok: false, reason: `unknown record type ${kind}` };
  try {
    return checkEvents(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    if (err instanceof Malformed || err instanceof RangeError) return { ok: false, reason: err.message };
    throw err;
  }
}
