import { readJson } from './storage.js';
import type { Store } from './types.js';
import { uuid } from './uuid.js';

interface SessionRecord {
  id: string;
  start: number;
  last: number;
}

/**
 * A session ends after `idleMs` without events or `maxMs` after it began. It lives in
 * shared storage so every tab of the site continues the same session.
 */
export class Session {
  /** Last record seen or written by this page, and when it was last written. */
  private mem: SessionRecord | undefined;
  private written = 0;

  constructor(
    private readonly store: Store,
    private readonly key: string,
    private readonly idleMs: number,
    private readonly maxMs: number,
  ) {}

  /**
   * Returns the session id for an event at `now`, starting a new session when due. Storage
   * is touched at most once a second: another tab can only have started a new session if
   * this one was idle for the whole timeout, and then the memory copy is stale anyway.
   */
  touch(now: number): string {
    let s = this.mem;
    if (!s || now - this.written >= WRITE_EVERY_MS) s = readJson<SessionRecord>(this.store, this.key);
    if (!s || now - s.last > this.idleMs || now - s.start > this.maxMs)
      s = { id: uuid(), start: now, last: now };
    else s.last = Math.max(s.last, now);
    this.mem = s;
    if (now - this.written >= WRITE_EVERY_MS || s.start === now) {
      this.store.set(this.key, JSON.stringify(s));
      this.written = now;
    }
    return s.id;
  }

  reset(): void {
    this.mem = undefined;
    this.written = 0;
    this.store.remove(this.key);
  }
}

const WRITE_EVERY_MS = 1000;
