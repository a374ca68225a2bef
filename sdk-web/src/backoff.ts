/**
 * Exponential backoff with equal jitter: half the window is fixed so retries never bunch at
 * zero, half is random so many clients that failed together do not retry together.
 * A server `Retry-After` is a floor, never shortened.
 */
export function backoffDelay(
  attempt: number,
  retryAfterMs = 0,
  random: () => number = Math.random,
  baseMs = 1000,
  capMs = 60_000,
): number {
  const window = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs, Math.round(window / 2 + random() * (window / 2)));
}

export type Outcome = 'ok' | 'drop' | 'split' | 'retry';

/** 4xx means the events themselves are bad: retrying cannot help, except for 408/429. */
export function classify(status: number, batchLength: number): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 413 && batchLength > 1) return 'split';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'drop';
  return 'retry';
}
