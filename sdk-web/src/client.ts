import { batchBody } from './encode.js';
import { Queue } from './queue.js';
import { Sender } from './sender.js';
import { Session } from './session.js';
import { readJson } from './storage.js';
import type { Encoding, Post, Props, Store, WireEvent } from './types.js';
import { uuid } from './uuid.js';

export interface ClientOptions {
  writeKey: string;
  batchSize?: number;
  flushIntervalMs?: number;
  maxQueue?: number;
  encoding?: Encoding;
  sessionIdleMs?: number;
  sessionMaxMs?: number;
  leaseMs?: number;
  /** Super properties registered at start (merged with persisted ones). */
  properties?: Props;
  /** Start opted out until `optIn()` (consent-first sites). */
  optOutByDefault?: boolean;
}

interface Ids {
  anon: string;
  user?: string;
}

/**
 * Platform-neutral core shared by the browser SDK and the mini-program adapter: identity,
 * super properties, sessions, opt-out, and the persisted queue with its sender.
 */
export class Client {
  readonly queue: Queue;
  readonly sender: Sender;
  private ids: Ids;
  private supers: Props;
  private readonly session: Session;
  private readonly k: (name: string) => string;

  constructor(
    readonly o: ClientOptions,
    private readonly store: Store,
    post: Post,
    /** Properties describing the current page/app, merged under every event's own. */
    private readonly context: () => Props,
  ) {
    const prefix = `weft:${o.writeKey}:`;
    this.k = (name) => prefix + name;
    this.ids = readJson<Ids>(store, this.k('id')) ?? { anon: uuid() };
    store.set(this.k('id'), JSON.stringify(this.ids));
    this.supers = { ...readJson<Props>(store, this.k('p')), ...o.properties };
    this.session = new Session(
      store,
      this.k('s'),
      o.sessionIdleMs ?? 30 * 60_000,
      o.sessionMaxMs ?? 86_400_000,
    );
    this.queue = new Queue(store, prefix, {
      leaseMs: o.leaseMs ?? 180_000,
      confirmMs: 50,
      maxEvents: o.maxQueue ?? 1000,
      now: Date.now,
    });
    const encoding = o.encoding ?? 'json';
    this.sender = new Sender(
      this.queue,
      (events) => {
        const b = batchBody(o.writeKey, events, encoding, Date.now());
        return post(b.body, b.type);
      },
      { batchSize: o.batchSize ?? 20, flushIntervalMs: o.flushIntervalMs ?? 3000, now: Date.now },
    );
  }

  get distinctId(): string {
    return this.ids.user ?? this.ids.anon;
  }

  get anonymousId(): string {
    return this.ids.anon;
  }

  get sessionId(): string {
    return this.session.touch(Date.now());
  }

  optedOut(): boolean {
    const v = this.store.get(this.k('out'));
    return v === null ? !!this.o.optOutByDefault : v === '1';
  }

  setOptOut(out: boolean): void {
    this.store.set(this.k('out'), out ? '1' : '0');
    if (out) this.queue.clear();
  }

  /** Builds, enqueues and returns an event; nothing when opted out. */
  capture(
    event: string,
    props?: Props,
    profile?: { $set?: Props; $set_once?: Props },
  ): WireEvent | undefined {
    if (this.optedOut()) return undefined;
    const time = Date.now();
    const e: WireEvent = {
      event_id: uuid(),
      event,
      distinct_id: this.distinctId,
      time,
      session_id: this.session.touch(time),
      properties: clean({ ...this.context(), ...this.supers, ...props }),
    };
    if (profile?.$set) e.$set = clean(profile.$set);
    if (profile?.$set_once) e.$set_once = clean(profile.$set_once);
    this.queue.push(e);
    this.sender.notify();
    return e;
  }

  /**
   * Links the anonymous id to a login id; everything sent before (and still queued) belongs
   * to that user on the server. Switching to a different login id starts a new anonymous id
   * first, so two people sharing a browser are never merged.
   */
  identify(userId: string, set?: Props, setOnce?: Props): void {
    if (!userId) return;
    if (this.ids.user && this.ids.user !== userId) this.reset();
    const linking = !this.ids.user;
    this.ids.user = userId;
    this.store.set(this.k('id'), JSON.stringify(this.ids));
    if (linking || set || setOnce)
      this.capture('$identify', linking ? { $anon_distinct_id: this.ids.anon } : {}, {
        $set: set,
        $set_once: setOnce,
      });
  }

  alias(alias: string): void {
    if (alias) this.capture('$create_alias', { alias });
  }

  /** Logout: new anonymous id, no login id, no super properties, new session. */
  reset(): void {
    this.ids = { anon: uuid() };
    this.store.set(this.k('id'), JSON.stringify(this.ids));
    this.supers = {};
    this.store.remove(this.k('p'));
    this.session.reset();
  }

  register(props: Props, onlyMissing = false): void {
    for (const [key, v] of Object.entries(props))
      if (!onlyMissing || !(key in this.supers)) this.supers[key] = v;
    this.store.set(this.k('p'), JSON.stringify(this.supers));
  }

  unregister(key: string): void {
    delete this.supers[key];
    this.store.set(this.k('p'), JSON.stringify(this.supers));
  }

  /** Reads and marks a one-time flag (e.g. first touch); true the first time only. */
  once(name: string): boolean {
    if (this.store.get(this.k(name))) return false;
    this.store.set(this.k(name), '1');
    return true;
  }
}

/**
 * Keeps properties flat and valid: nested objects become dotted keys (as the collector
 * would do), arrays become JSON text, undefined and functions are dropped.
 */
function clean(p: Record<string, unknown>, out: Props = {}, prefix = ''): Props {
  for (const key in p) {
    const v = p[key];
    const name = prefix + key;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[name] = v;
    else if (typeof v === 'number') out[name] = Number.isFinite(v) ? v : null;
    else if (Array.isArray(v)) out[name] = JSON.stringify(v);
    else if (typeof v === 'object') clean(v as Record<string, unknown>, out, `${name}.`);
  }
  return out;
}
