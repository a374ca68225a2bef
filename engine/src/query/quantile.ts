/**
 * The exact quantile as ClickHouse's quantileExact takes it: the element at index
 * floor(level * n) of the sorted values (the upper median for even n). Null when empty.
 */
export function exactQuantile(sorted: ArrayLike<number>, level: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  return sorted[Math.min(n - 1, Math.floor(level * n))]!;
}
