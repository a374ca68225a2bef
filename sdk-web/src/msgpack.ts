/**
 * The subset of MessagePack the batch body needs (nil, bool, numbers, strings, arrays,
 * maps), hand-written so the core bundle carries no codec library. Integers beyond 32 bits
 * (epoch milliseconds) go out as float64, which is exact up to 2^53 for every decoder.
 */
export function encodeMsgpack(value: unknown): Uint8Array<ArrayBuffer> {
  const w = new Writer();
  w.value(value);
  return w.bytes();
}

// Created on first use: some mini-program runtimes have no TextEncoder and only send JSON.
let utf8: TextEncoder | undefined;

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private n = 0;

  bytes(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.n);
  }

  value(v: unknown): void {
    if (v == null) this.u8(0xc0);
    else if (typeof v === 'boolean') this.u8(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') this.number(v);
    else if (typeof v === 'string') this.string(v);
    else if (Array.isArray(v)) {
      this.header(v.length, 0x90, 0xdc);
      for (const x of v) this.value(x);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      this.header(entries.length, 0x80, 0xde);
      for (const [k, x] of entries) {
        this.string(k);
        this.value(x);
      }
    } else this.u8(0xc0);
  }

  private number(v: number): void {
    if (Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) {
      if (v >= 0) {
        if (v < 0x80) this.u8(v);
        else if (v < 0x100) this.u8(0xcc, v);
        else if (v < 0x10000) this.tagged(0xcd, 2, v);
        else this.tagged(0xce, 4, v);
      } else if (v >= -32) this.u8(0xe0 | (v + 32));
      else if (v >= -0x80) this.tagged(0xd0, 1, v);
      else if (v >= -0x8000) this.tagged(0xd1, 2, v);
      else this.tagged(0xd2, 4, v);
      return;
    }
    this.ensure(9);
    this.buf[this.n] = 0xcb;
    this.view.setFloat64(this.n + 1, v);
    this.n += 9;
  }

  private string(s: string): void {
    const b = (utf8 ??= new TextEncoder()).encode(s);
    const len = b.length;
    if (len < 32) this.u8(0xa0 | len);
    else if (len < 0x100) this.u8(0xd9, len);
    else if (len < 0x10000) this.tagged(0xda, 2, len);
    else this.tagged(0xdb, 4, len);
    this.ensure(len);
    this.buf.set(b, this.n);
    this.n += len;
  }

  private header(len: number, fix: number, tag16: number): void {
    if (len < 16) this.u8(fix | len);
    else if (len < 0x10000) this.tagged(tag16, 2, len);
    else this.tagged(tag16 + 1, 4, len);
  }

  /** A type byte followed by a big-endian integer of `size` bytes (signed for d0–d2). */
  private tagged(tag: number, size: 1 | 2 | 4, v: number): void {
    this.ensure(1 + size);
    const at = this.n + 1;
    this.buf[this.n] = tag;
    if (size === 1) this.view.setInt8(at, v);
    else if (size === 2) tag === 0xd1 ? this.view.setInt16(at, v) : this.view.setUint16(at, v);
    else tag === 0xd2 ? this.view.setInt32(at, v) : this.view.setUint32(at, v);
    this.n += 1 + size;
  }

  private u8(...bytes: number[]): void {
    this.ensure(bytes.length);
    for (const b of bytes) this.buf[this.n++] = b;
  }

  private ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + extra));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
