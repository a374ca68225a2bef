import { shardOf } from '@weft/core';
import { expect } from 'vitest';
import { type RunningWeft, startWeft } from '../../src/server.js';

/** Keys the e2e servers run with. */
export const WRITE_KEY = 'wk';
export const SECRET_KEY = 'sk';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely; the assertions check them
export type Json = any;

/** The first id `${prefix}N` that the default project hashes to `shard` of the test servers' two. */
export function idOnShard(prefix: string, shard: number): string {
  for (let i = 0; ; i++) if (shardOf('default', `${prefix}${i}`, 2) === shard) return `${prefix}${i}`;
}

/** An embedded server on `dataDir` with 2 shards, fixed keys and no periodic snapshot. */
export function startTestWeft(dataDir: string): Promise<RunningWeft> {
  return startWeft({
    dataDir,
    port: 0,
    shards: 2,
    logLevel: 'silent',
    writeKey: WRITE_KEY,
    secretKey: SECRET_KEY,
    snapshotIntervalMs: 3_600_000,
  });
}

/**
 * HTTP calls against whichever server `url()` names now (tests restart theirs): `send`
 * ingests and expects a 200; `call` takes the secret key and reads the body loosely.
 */
export function weftHttp(url: () => string) {
  return {
    async send(events: unknown[]): Promise<void> {
      const res = await fetch(`${url()}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-write-key': WRITE_KEY },
        body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(200);
    },

    async call(
      method: string,
      path: string,
      body?: unknown,
      type = 'application/json',
    ): Promise<{ status: number; text: string; body: Json }> {
      const res = await fetch(`${url()}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${SECRET_KEY}`,
          ...(body === undefined ? {} : { 'content-type': type }),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: Json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, body: json };
    },
  };
}
