import { readJson } from './storage.js';
import type { Store, WireEvent } from './types.js';
import { uuid } from './uuid.js';

/** A lease on a stored queue: owner queue id and expiry (ms). */
interface Lease {
  o: string;
  t: number;
}

export interface QueueOptions {
  /** How long a queue stays owned without a heartbeat; background tabs tick about once a minute. */
  leaseMs: number;
  /** Delay between claiming an orphaned queue and confirming the claim held against other tabs. */
  confirmMs: number;
  maxEvents: number;
  now: () => number;
}

/**
 * The persisted event queue. Each page instance writes only its own storage key, so tabs
 * never overwrite each other's appends; a lease (renewed by heartbeat, released on page
 * hide) marks the key as owned. Queues left by closed, reloaded or crashed pages are
 * adopted by exactly one live page: it writes its claim, waits, and proceeds only if the
 * claim is still its own, so two tabs never send the same events.
 */
export class Queue {
  private id = uuid();
  private events: WireEvent[] = [];
  private inflight = new Set<string>();
  /** Ids written at the last persist: what an adopter may have taken over from us. */
  private saved = new Set<string>();
  private persistTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    private readonly o: QueueOptions,
  ) {
    this.claim(this.id);
  }

  get length(): number {
    return this.events.length;
  }

  /** Events waiting that are not already being sent. */
  pending(): number {
    return this.events.length - this.inflight.size;
  }

  push(e: WireEvent): void {
    this.events.push(e);
    if (this.events.length > this.o.maxEvents) {
      const dropped = this.events.splice(0, this.events.length - this.o.maxEvents);
      for (const d of dropped) this.inflight.delete(d.event_id);
    }
    // Coalesce the write: a burst of events costs one serialization, not one each.
    this.persistTimer ??= setTimeout(() => this.persist(), 0);
  }

  /** Marks up to `max` waiting events as in flight and returns them, oldest first. */
  take(max: number): WireEvent[] {
    const out: WireEvent[] = [];
    for (const e of this.events) {
      if (out.length >= max) break;
      if (this.inflight.has(e.event_id)) continue;
      this.inflight.add(e.event_id);
      out.push(e);
    }
    return out;
  }

  /** The events were delivered (or refused for good): forget them. */
  ack(done: WireEvent[]): void {
    const ids = new Set(done.map((e) => e.event_id));
    for (const id of ids) this.inflight.delete(id);
    this.events = this.events.filter((e) => !ids.has(e.event_id));
    this.persist();
  }

  /** The send failed: the events wait for the next attempt. */
  release(events: WireEvent[]): void {
    for (const e of events) this.inflight.delete(e.event_id);
  }

  clear(): void {
    this.events = [];
    this.inflight.clear();
    this.persist();
  }

  /** Writes the queue and renews the lease; if another page adopted us meanwhile, starts a fresh key. */
  persist(): void {
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    if (!this.owned()) this.detach();
    if (this.events.length) this.store.set(this.key('q', this.id), JSON.stringify(this.events));
    else this.store.remove(this.key('q', this.id));
    this.saved = new Set(this.events.map((e) => e.event_id));
    this.renew();
  }

  /** Heartbeat: keeps our key owned while the page lives (and notices a takeover). */
  renew(): void {
    if (!this.owned()) this.detach();
    this.claim(this.id);
  }

  /** Page going away: persist what is left and let another page adopt it at once. */
  close(): void {
    this.persist();
    if (this.events.length) this.store.set(this.key('l', this.id), JSON.stringify({ o: this.id, t: 0 }));
    else this.store.remove(this.key('l', this.id));
  }

  /** Claims every orphaned queue (expired or released lease); resolves to the number of events adopted. */
  async adopt(): Promise<number> {
    const claimed: string[] = [];
    const qp = this.key('q', '');
    for (const k of this.store.keys(qp)) {
      const id = k.slice(qp.length);
      if (id === this.id) continue;
      const l = this.lease(id);
      if (l && l.t > this.o.now()) continue;
      this.claim(id);
      claimed.push(id);
    }
    if (!claimed.length) return 0;
    await new Promise((r) => setTimeout(r, this.o.confirmMs));
    let n = 0;
    const have = new Set(this.events.map((e) => e.event_id));
    for (const id of claimed) {
      if (this.lease(id)?.o !== this.id) continue;
      for (const e of readJson<WireEvent[]>(this.store, this.key('q', id)) ?? []) {
        if (have.has(e.event_id)) continue;
        have.add(e.event_id);
        this.events.push(e);
        n++;
      }
      this.store.remove(this.key('q', id));
      this.store.remove(this.key('l', id));
    }
    if (n) this.persist();
    return n;
  }

  /** Our stored events were adopted by another page: keep only what was never written, under a new key. */
  private detach(): void {
    this.events = this.events.filter((e) => !this.saved.has(e.event_id));
    this.inflight = new Set([...this.inflight].filter((id) => !this.saved.has(id)));
    this.saved.clear();
    this.id = uuid();
    this.claim(this.id);
  }

  private claim(id: string): void {
    this.store.set(this.key('l', id), JSON.stringify({ o: this.id, t: this.o.now() + this.o.leaseMs }));
  }

  /** A missing lease also means taken: the adopter deletes it along with the queue. */
  private owned(): boolean {
    return this.lease(this.id)?.o === this.id;
  }

  private lease(id: string): Lease | undefined {
    return readJson<Lease>(this.store, this.key('l', id));
  }

  private key(kind: 'q' | 'l', id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }
}
