/**
 * Exact quantiles as ClickHouse's quantileExact takes them: the element at index
 * floor(level * n) of the sorted values (the upper median for even n); null when empty.
 * Selects in place (reordering `values`) in linear time instead of sorting: a funnel step's
 * gaps are one per converter, millions at scale.
 */
export function exactQuantiles(values: Float64Array, levels: readonly number[]): Array<number | null> {
  const n = values.length;
  if (n === 0) return levels.map(() => null);
  const order = levels.map((level, i) => ({ i, k: Math.min(n - 1, Math.floor(level * n)) }));
  order.sort((a, b) => a.k - b.k);
  const out: Array<number | null> = new Array(levels.length);
  let lo = 0;
  for (const { i, k } of order) {
    // Everything before index `lo` is already <= what the earlier selections left at `lo`.
    out[i] = select(values, k, lo, n - 1);
    lo = k;
  }
  return out;
}

/**
 * The k-th smallest of values[lo..hi], leaving values[k] at its sorted place with nothing
 * larger before it and nothing smaller after it. Three-way partitions around a median of three,
 * so runs of equal gaps (common: times are whole milliseconds) cost one pass.
 */
function select(a: Float64Array, k: number, lo: number, hi: number): number {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i]!;
      if (v < pivot) {
        a[i++] = a[lt]!;
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt]!;
        a[gt--] = v;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[k]!;
}
