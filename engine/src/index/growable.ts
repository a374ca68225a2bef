type TypedArray = Uint32Array | Int32Array | Float64Array | Uint8Array;
type TypedArrayCtor<T extends TypedArray> = { new (length: number): T };

/** An append-only typed column that doubles its backing array as it grows. */
export class Growable<T extends TypedArray> {
  data: T;
  length = 0;

  constructor(
    private readonly ctor: TypedArrayCtor<T>,
    capacity = 1024,
  ) {
    this.data = new ctor(capacity);
  }

  push(value: number): number {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length] = value;
    return this.length++;
  }

  pushAll(values: ArrayLike<number>): void {
    if (this.length + values.length > this.data.length) this.grow(this.length + values.length);
    this.data.set(values, this.length);
    this.length += values.length;
  }

  private grow(min: number): void {
    let cap = this.data.length * 2;
    while (cap < min) cap *= 2;
    const next = new this.ctor(cap);
    next.set(this.data);
    this.data = next;
  }

  /** Removes the first cell equal to `value`, keeping the order of the rest; false when absent. */
  remove(value: number): boolean {
    const i = this.data.subarray(0, this.length).indexOf(value);
    if (i < 0) return false;
    this.data.copyWithin(i, i + 1, this.length);
    this.length--;
    return true;
  }

  /** The filled part, as a view (no copy). */
  view(from = 0, to = this.length): T {
    return this.data.subarray(from, to) as T;
  }
}

export const u32 = (capacity?: number) => new Growable(Uint32Array, capacity);
export const i32 = (capacity?: number) => new Growable(Int32Array, capacity);
export const f64 = (capacity?: number) => new Growable(Float64Array, capacity);
