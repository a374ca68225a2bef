// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, classify } from '../src/backoff.js';
import { Queue } from '../src/queue.js';
import { Sender } from '../src/sender.js';
import { memoryStore } from '../src/storage.js';
import type { SendResult, WireEvent } from '../src/types.js';
import { event } from './helpers.js';

describe('backoff', () => {
  it('grows exponentially with equal jitter and a cap', () => {
    expect(backoffDelay(1, 0, () => 0)).toBe(500);
    expect(backoffDelay(1, 0, () => 1)).toBe(1000);
    expect(backoffDelay(3, 0, () => 0)).toBe(2000);
    expect(backoffDelay(3, 0, () => 0.999)).toBeLessThanOrEqual(4000);
    expect(backoffDelay(30, 0, () => 1)).toBe(60_000);
  });

  it('never retries earlier than Retry-After', () => {
    expect(backoffDelay(1, 30_000, () => 0)).toBe(30_000);
  });

  it('drops on 4xx, retries on 408/429/5xx/network, splits on 413', () => {
    expect(classify(200, 5)).toBe('ok');
    expect(classify(400, 5)).toBe('drop');
    expect(classify(401, 5)).toBe('drop');
    expect(classify(413, 5)).toBe('split');
    expect(classify(413, 1)).toBe('drop');
    for (const s of [0, 408, 429, 500, 503]) expect(classify(s, 5)).toBe('retry');
  });
});

describe('sender', () => {
  let sent: WireEvent[][];
  let answers: SendResult[];
  let queue: Queue;
  let sender: Sender;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    answers = [];
    queue = new Queue(memoryStore(), 'weft:k:', {
      leaseMs: 60_000,
      confirmMs: 5,
      maxEvents: 1000,
      now: Date.now,
    });
    sender = new Sender(
      queue,
      async (events) => {
        sent.push(events);
        return answers.shift() ?? { status: 200 };
      },
      { batchSize: 3, flushIntervalMs: 1000, now: Date.now, random: () => 0.5 },
    );
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const enqueue = (n: number) => {
    const evs = Array.from({ length: n }, () => event());
    for (const e of evs) {
      queue.push(e);
      sender.notify();
    }
    return evs;
  };

  it('sends a full batch at once and drains what follows it', async () => {
    enqueue(7);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(queue.length).toBe(0);
  });

  it('sends a partial batch when the flush interval has passed', async () => {
    enqueue(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((b) => b.length)).toEqual([2]);
  });

  it('retries the same events after a jittered backoff on 503 and network errors', async () => {
    answers = [{ status: 503 }, { status: 0 }];
    const evs = enqueue(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(749);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1500);
    expect(sent).toHaveLength(3);
    for (const b of sent) expect(b.map((e) => e.event_id)).toEqual(evs.map((e) => e.event_id));
    expect(queue.length).toBe(0);
  });

  it('drops a batch the collector refuses with 400', async () => {
    answers = [{ status: 400 }];
    enqueue(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toHaveLength(1);
    expect(queue.length).toBe(0);
  });

  it('halves a batch on 413', async () => {
    answers = [{ status: 413 }];
    enqueue(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((b) => b.length)).toEqual([3, 2, 1]);
  });

  it('waits for Retry-After on 429', async () => {
    answers = [{ status: 429, retryAfterMs: 10_000 }];
    enqueue(3);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
  });
});
