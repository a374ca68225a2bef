import { backoffDelay, classify } from './backoff.js';
import type { Queue } from './queue.js';
import type { SendResult, WireEvent } from './types.js';

export interface SenderOptions {
  batchSize: number;
  flushIntervalMs: number;
  now: () => number;
  random?: () => number;
}

/**
 * Moves events from the queue to the collector: a batch goes out when `batchSize` events
 * wait or `flushIntervalMs` after the first one; one request at a time; failures wait a
 * jittered backoff; 4xx answers drop the batch; 413 halves it.
 */
export class Sender {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private attempt = 0;
  private retryAt = 0;
  private limit: number;

  constructor(
    private readonly queue: Queue,
    private readonly post: (events: WireEvent[]) => Promise<SendResult>,
    private readonly o: SenderOptions,
  ) {
    this.limit = o.batchSize;
  }

  /** Called after each enqueue. */
  notify(): void {
    if (this.queue.pending() >= this.o.batchSize) void this.flush();
    else this.schedule(this.o.flushIntervalMs);
  }

  /** Sends until the queue is empty or a failure asks to wait; resolves then. */
  flush(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Waiting time before the next retry, 0 when not backing off. */
  backoffRemaining(): number {
    return Math.max(0, this.retryAt - this.o.now());
  }

  private async drain(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (;;) {
      const wait = this.backoffRemaining();
      if (wait > 0) return this.schedule(wait);
      const batch = this.queue.take(this.limit);
      if (!batch.length) return;
      let res: SendResult;
      try {
        res = await this.post(batch);
      } catch {
        res = { status: 0 };
      }
      const outcome = classify(res.status, batch.length);
      if (outcome === 'ok' || outcome === 'drop') {
        this.queue.ack(batch);
        if (outcome === 'ok') {
          this.attempt = 0;
          this.limit = this.o.batchSize;
        }
      } else {
        this.queue.release(batch);
        if (outcome === 'split') this.limit = Math.ceil(batch.length / 2);
        else {
          this.attempt++;
          this.retryAt = this.o.now() + backoffDelay(this.attempt, res.retryAfterMs, this.o.random);
        }
      }
    }
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }
}
