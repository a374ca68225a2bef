import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardOf } from '@weft/core';
import { afterAll, describe, expect, it } from 'vitest';
import { startWeft } from '../../src/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-moves-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('read-your-writes across an identify that moves history between shards', () => {
  it('shows the anonymous history under the login id as soon as the identify is acknowledged', async () => {
    const weft = await startWeft({
      dataDir,
      port: 0,
      shards: 4,
      logLevel: 'silent',
      writeKey: 'wk',
      secretKey: 'sk',
    });
    try {
      const T = Date.UTC(2026, 5, 1);
      let checked = 0;
      for (let u = 0; checked < 25; u++) {
        const anon = `anon-${u}`;
        const login = `login-${u}`;
        // Only pairs on different shards exercise the move.
        if (shardOf('default', anon, 4) === shardOf('default', login, 4)) continue;
        checked++;
        const res = await fetch(`${weft.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-write-key': 'wk' },
          body: JSON.stringify({
            events: [
              { event: 'browse', distinct_id: anon, time: T, event_id: `b-${u}` },
              {
                event: '$identify',
                distinct_id: login,
                time: T + 1,
                properties: { $anon_distinct_id: anon },
              },
            ],
          }),
        });
        expect(res.status).toBe(200);
        const timeline = (await (
          await fetch(`${weft.url}/v1/users/${login}/timeline`, { headers: { authorization: 'Bearer sk' } })
        ).json()) as { events: Array<{ event: string }> };
        expect(timeline.events.map((e) => e.event)).toEqual(['browse', '$identify']);
      }
    } finally {
      await weft.close();
    }
  });
});
