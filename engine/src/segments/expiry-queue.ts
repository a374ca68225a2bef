/** A min-heap of (time, item): when rolling windows next change some user's membership. */
export class ExpiryQueue<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  push(at: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= at) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = at;
    items[i] = item;
  }

  /** The earliest time queued, or Infinity. */
  peek(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  /** Removes the earliest entry and hands it to `visit`. */
  pop(visit: (at: number, item: T) => void): void {
    const times = this.times;
    const items = this.items;
    const at = times[0]!;
    const item = items[0]!;
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && times[l + 1]! < times[l]! ? l + 1 : l;
        if (times[c]! >= lastTime) break;
        times[i] = times[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    visit(at, item);
  }
}
