import { encodeMsgpack } from './msgpack.js';
import type { Encoding, WireEvent } from './types.js';

export interface Body {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
}

/**
 * The `POST /v1/batch` body. JSON goes as `text/plain` so it is a CORS-simple request (no
 * preflight, usable by sendBeacon); the write key rides in the body for the same reason.
 */
export function batchBody(writeKey: string, events: WireEvent[], encoding: Encoding, now: number): Body {
  const payload = { sent_at: now, write_key: writeKey, events };
  return encoding === 'msgpack'
    ? { body: encodeMsgpack(payload), type: 'application/msgpack' }
    : { body: JSON.stringify(payload), type: 'text/plain' };
}

/** UTF-8 byte length without allocating: the beacon quota counts bytes, not UTF-16 units. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Splits events into JSON bodies of at most `maxBytes` each (browsers refuse beacons over
 * ~64 KiB in flight). An event too large for any body is left out for the normal path.
 */
export function beaconBodies(
  writeKey: string,
  events: WireEvent[],
  maxBytes: number,
  now: number,
): { body: string; events: WireEvent[] }[] {
  const head = `{"sent_at":${now},"write_key":${JSON.stringify(writeKey)},"events":[`;
  const frame = utf8Length(head) + 2;
  const out: { body: string; events: WireEvent[] }[] = [];
  let parts: string[] = [];
  let picked: WireEvent[] = [];
  let size = frame;
  const close = () => {
    if (parts.length) out.push({ body: `${head}${parts.join(',')}]}`, events: picked });
    parts = [];
    picked = [];
    size = frame;
  };
  for (const e of events) {
    const json = JSON.stringify(e);
    const len = utf8Length(json) + 1;
    if (frame + len > maxBytes) continue;
    if (size + len > maxBytes) close();
    parts.push(json);
    picked.push(e);
    size += len;
  }
  close();
  return out;
}
