import type { PropValue } from '@weft/core';

/**
 * Interns property values (and keys, event names, session ids) to dense ids so rows store
 * numbers. Ids 0..2 are null, false, true; strings and numbers get ids as first seen.
 * Append-only: ids are never reused, which is what lets snapshots be written as deltas.
 */
export class ValueTable {
  static readonly NULL = 0;
  static readonly FALSE = 1;
  static readonly TRUE = 2;

  readonly values: PropValue[] = [null, false, true];
  /** Non-ASCII strings by value (ASCII ones are found through the slots alone). */
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();
  /**
   * Every ASCII string's id, by a hash of its bytes (open addressing, -1 empty), so a record's
   * strings are found from their bytes without decoding them or hashing a new JS string: most
   * strings of a record (names, keys, common values) were seen before. Fresh ones (session
   * ids) go only here, as a Map entry per string cost the shards a tenth of their time.
   * Other strings are decoded and looked up by value, as comparing them byte-wise would need
   * their UTF-8 form kept too.
   */
  private slots = new Int32Array(1024).fill(-1);
  private slotHashes = new Uint32Array(1024);
  private slotCount = 0;

  get size(): number {
    return this.values.length;
  }

  id(value: PropValue): number {
    if (typeof value === 'string') return this.stringId(value);
    if (typeof value === 'number') {
      let id = this.numbers.get(value);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(value);
        this.numbers.set(value, id);
      }
      return id;
    }
    if (value === null) return ValueTable.NULL;
    return value ? ValueTable.TRUE : ValueTable.FALSE;
  }

  stringId(value: string): number {
    const hash = asciiHash(value);
    if (hash < 0) return this.strings.get(value) ?? this.addString(value, hash);
    const id = this.asciiFind(value, hash);
    return id >= 0 ? id : this.addString(value, hash);
  }

  /** The id of an ASCII string with this hash, or -1. */
  private asciiFind(value: string, hash: number): number {
    const mask = this.slots.length - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const id = this.slots[at]!;
      if (id < 0) return -1;
      if (this.slotHashes[at] === hash && this.values[id] === value) return id;
    }
  }

  /** The id of the string whose UTF-8 bytes are `buf[start, end)`, interning it if new. */
  utf8Id(buf: Buffer, start: number, end: number): number {
    let h = FNV_OFFSET;
    let high = 0;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      high |= b;
      h = Math.imul(h ^ b, FNV_PRIME);
    }
    if (high >= 0x80) return this.stringId(buf.toString('utf8', start, end));
    h >>>= 0;
    const mask = this.slots.length - 1;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const id = this.slots[at]!;
      if (id < 0) break;
      if (this.slotHashes[at] === h && asciiEquals(this.values[id] as string, buf, start, end)) return id;
    }
    // Every ASCII string has a slot, so it is new: file it without looking again.
    return this.addString(buf.toString('latin1', start, end), h);
  }

  /** Files a new string: when ASCII (`hash` ≥ 0) under its bytes' hash, else under its value. */
  private addString(value: string, hash: number): number {
    const id = this.values.length;
    this.values.push(value);
    if (hash >= 0) this.addSlot(id, hash);
    else this.strings.set(value, id);
    return id;
  }

  private addSlot(id: number, hash: number): void {
    if ((this.slotCount + 1) * 2 > this.slots.length) this.growSlots();
    const mask = this.slots.length - 1;
    let at = hash & mask;
    while (this.slots[at]! >= 0) at = (at + 1) & mask;
    this.slots[at] = id;
    this.slotHashes[at] = hash;
    this.slotCount++;
  }

  private growSlots(): void {
    const oldSlots = this.slots;
    const oldHashes = this.slotHashes;
    this.slots = new Int32Array(oldSlots.length * 2).fill(-1);
    this.slotHashes = new Uint32Array(oldSlots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      const id = oldSlots[i]!;
      if (id < 0) continue;
      let at = oldHashes[i]! & mask;
      while (this.slots[at]! >= 0) at = (at + 1) & mask;
      this.slots[at] = id;
      this.slotHashes[at] = oldHashes[i]!;
    }
  }

  /** Id of a value if it was ever seen, else -1 (a filter on it matches nothing). */
  find(value: PropValue): number {
    if (typeof value === 'string') {
      const hash = asciiHash(value);
      return hash < 0 ? (this.strings.get(value) ?? -1) : this.asciiFind(value, hash);
    }
    if (typeof value === 'number') return this.numbers.get(value) ?? -1;
    if (value === null) return ValueTable.NULL;
    return value ? ValueTable.TRUE : ValueTable.FALSE;
  }

  get(id: number): PropValue {
    return this.values[id] as PropValue;
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of an ASCII string (the hash `utf8Id` computes from its bytes), or -1 for any other string. */
function asciiHash(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

function asciiEquals(s: string, buf: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
