import { beaconBodies, utf8Length } from '../encode.js';
import type { Queue } from '../queue.js';
import type { Post } from '../types.js';

/** Browsers allow 64 KiB of keepalive/beacon bodies in flight; stay under it. */
export const BEACON_MAX_BYTES = 60_000;

/** Regular sends: fetch, with keepalive when small enough so a send started before unload completes. */
export function fetchPost(url: string): Post {
  return async (body, type) => {
    const size = typeof body === 'string' ? utf8Length(body) : body.byteLength;
    const r = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'Content-Type': type },
      keepalive: size <= BEACON_MAX_BYTES,
      credentials: 'omit',
    });
    const retryAfter = Number(r.headers.get('Retry-After'));
    return { status: r.status, retryAfterMs: retryAfter > 0 ? retryAfter * 1000 : undefined };
  };
}

/**
 * Last send as the page goes away: every waiting event as CORS-simple JSON beacons under
 * the quota, fetch keepalive for what the browser refuses. A beacon has no answer, so the
 * events also stay persisted and the next page view sends them again: delivery is
 * at-least-once and the collector drops the repeat by event_id.
 */
export function sendOnUnload(url: string, writeKey: string, queue: Queue): void {
  const events = queue.take(Number.POSITIVE_INFINITY);
  for (const b of beaconBodies(writeKey, events, BEACON_MAX_BYTES, Date.now()))
    if (!navigator.sendBeacon?.(url, b.body))
      fetch(url, { method: 'POST', body: b.body, keepalive: true, credentials: 'omit' }).catch(
        () => undefined,
      );
  queue.release(events);
}
