import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../fs/durable-files.js';
import type { ChangeLog, LoggedChange } from './change-log.js';
import type { SegmentStore, Webhook } from './store.js';

/** Posts one delivery; true when the receiver answered 2xx. */
export type Poster = (url: string, body: string, headers: Record<string, string>) => Promise<boolean>;

export interface WebhookOutboxOptions {
  post?: Poster;
  /** Wait before retry number `attempt` (1, 2, …) of a failed delivery. */
  retryDelay?: (attempt: number) => number;
  /** Changes per delivery at most. */
  maxBatch?: number;
}

/**
 * Per subscription: every change up to `delivered` was acknowledged; `sending` is the last id
 * of the batch being delivered, so a retry (after a restart too) resends exactly that batch
 * under the same delivery id.
 */
interface Cursor {
  delivered: number;
  sending?: number;
}

interface Pump {
  busy: boolean;
  attempt: number;
  timer?: NodeJS.Timeout;
}

/** Header naming a delivery; a retried delivery keeps it, so receivers can drop repeats. */
export const DELIVERY_HEADER = 'weft-delivery-id';

/**
 * Webhook delivery from the change log: each subscription has a durable cursor in the data
 * dir, and the log keeps what a cursor has not passed, so undelivered changes survive a
 * restart. One delivery in flight per subscription, in id order, retried with exponential
 * backoff until the receiver answers 2xx: at least once and ordered. Changes the log dropped
 * before delivery (a receiver down past maxChunks) are announced with `gap` in the next body.
 */
export class WebhookOutbox {
  private readonly cursors: Record<string, Cursor>;
  private readonly pumps = new Map<string, Pump>();
  private readonly path: string;
  private readonly post: Poster;
  private readonly retryDelay: (attempt: number) => number;
  private readonly maxBatch: number;
  private stopped = false;

  constructor(
    dir: string,
    private readonly store: SegmentStore,
    private readonly log: ChangeLog,
    options: WebhookOutboxOptions = {},
  ) {
    this.path = join(dir, 'webhook-cursors.json');
    this.post = options.post ?? postJson;
    this.retryDelay = options.retryDelay ?? ((attempt) => Math.min(1_000 * 2 ** (attempt - 1), 300_000));
    this.maxBatch = options.maxBatch ?? 500;
    this.cursors = JSON.parse(readFileIfExists(this.path) ?? '{}') as Record<string, Cursor>;
    // A cursor without its subscription would keep the log from ever dropping changes.
    const hooks = new Set(store.projects().flatMap((p) => store.webhooks(p).map((h) => h.id)));
    for (const id of Object.keys(this.cursors)) if (!hooks.has(id)) delete this.cursors[id];
    for (const project of store.projects()) this.wake(project);
  }

  /** Starts a subscription: it gets the changes logged from now on. */
  add(project: string, hook: Webhook): void {
    this.cursors[hook.id] = { delivered: this.log.lastId };
    this.save();
    this.store.putWebhook(project, hook);
  }

  remove(project: string, id: string): boolean {
    if (!this.store.deleteWebhook(project, id)) return false;
    clearTimeout(this.pumps.get(id)?.timer);
    this.pumps.delete(id);
    delete this.cursors[id];
    this.save();
    return true;
  }

  /** Delivers what the project's subscriptions have not had yet. */
  wake(project: string): void {
    for (const hook of this.store.webhooks(project)) void this.pump(project, hook);
  }

  /** The id every subscription has delivered; the log may drop changes up to it. */
  delivered(): number {
    let min = this.log.lastId;
    for (const c of Object.values(this.cursors)) min = Math.min(min, c.delivered);
    return min;
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.pumps.values()) clearTimeout(p.timer);
  }

  private async pump(project: string, hook: Webhook): Promise<void> {
    let pump = this.pumps.get(hook.id);
    if (!pump) this.pumps.set(hook.id, (pump = { busy: false, attempt: 0 }));
    if (pump.busy || pump.timer) return;
    pump.busy = true;
    try {
      while (!this.stopped && this.pumps.get(hook.id) === pump) {
        // Subscriptions from before the outbox kept cursors start at the present.
        const cursor = (this.cursors[hook.id] ??= { delivered: this.log.lastId });
        const batch = this.batch(project, hook, cursor);
        if (batch.changes.length === 0 && batch.gap === undefined) {
          // Nothing of this subscription's up to batch.upTo: skip past it without a delivery.
          cursor.delivered = batch.upTo;
          delete cursor.sending;
          if (batch.upTo >= this.log.lastId) return;
          continue;
        }
        if (cursor.sending === undefined) {
          // The batch's ids must outlive a power loss before they name a delivery.
          this.log.sync();
          cursor.sending = batch.upTo;
          this.save();
        }
        const deliveryId = `${hook.id}-${cursor.delivered + 1}-${batch.upTo}`;
        const body: Record<string, unknown> = { delivery_id: deliveryId, changes: batch.changes };
        if (batch.gap) body.gap = batch.gap;
        const ok = await this.post(hook.url, JSON.stringify(body), { [DELIVERY_HEADER]: deliveryId });
        if (this.stopped || this.pumps.get(hook.id) !== pump) return;
        if (!ok) return this.retryLater(project, hook, pump);
        pump.attempt = 0;
        cursor.delivered = batch.upTo;
        delete cursor.sending;
        this.save();
      }
    } catch (err) {
      // Saving a cursor failed (a full disk, say): try again later rather than lose the place.
      console.error(`weft: webhook ${hook.id} delivery stalled`, err);
      this.retryLater(project, hook, pump);
    } finally {
      pump.busy = false;
    }
  }

  private retryLater(project: string, hook: Webhook, pump: Pump): void {
    pump.attempt++;
    pump.timer = setTimeout(() => {
      pump.timer = undefined;
      void this.pump(project, hook);
    }, this.retryDelay(pump.attempt));
    pump.timer.unref();
  }

  /** The subscription's next batch: its changes after the cursor, up to `sending` when set. */
  private batch(
    project: string,
    hook: Webhook,
    cursor: Cursor,
  ): { changes: LoggedChange[]; upTo: number; gap?: { after: number; next: number } } {
    const changes: LoggedChange[] = [];
    let gap: { after: number; next: number } | undefined;
    let upTo = cursor.delivered;
    const through = cursor.sending ?? this.log.lastId;
    while (upTo < through && changes.length < this.maxBatch) {
      const read = this.log.readFrom(upTo, through);
      if (!read) {
        gap = { after: upTo, next: this.log.oldestId };
        console.error(
          `weft: webhook ${hook.id} (${hook.url}) lost changes ${upTo + 1}-${this.log.oldestId - 1}: the change log dropped them before delivery`,
        );
        upTo = this.log.oldestId - 1;
        continue;
      }
      upTo = read.upTo;
      for (const c of read.changes) {
        if (c.project !== project || (hook.segment !== undefined && c.segment !== hook.segment)) continue;
        changes.push(c);
        // A full batch ends at its last change; a retry must not take more.
        if (changes.length === this.maxBatch && cursor.sending === undefined) {
          upTo = c.id;
          break;
        }
      }
    }
    return gap ? { changes, upTo, gap } : { changes, upTo };
  }

  private save(): void {
    if (!this.stopped) writeFileAtomic(this.path, JSON.stringify(this.cursors));
  }
}

async function postJson(url: string, body: string, headers: Record<string, string>): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
