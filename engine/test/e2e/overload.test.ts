import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startWeft } from '../../src/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'weft-overload-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('overload', () => {
  it('answers 503 with Retry-After past the pending limit, and counts exactly what it acknowledged', async () => {
    const weft = await startWeft({ dataDir, port: 0, shards: 2, logLevel: 'silent', maxPendingBatches: 2 });
    try {
      const sends = Array.from({ length: 40 }, (_, b) =>
        fetch(`${weft.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-write-key': weft.writeKey },
          body: JSON.stringify({
            events: Array.from({ length: 50 }, (_, i) => ({
              event_id: `o-${b}-${i}`,
              event: 'load',
              distinct_id: `u${i}`,
            })),
          }),
        }),
      );
      const responses = await Promise.all(sends);
      const busy = responses.filter((r) => r.status === 503);
      const ok = responses.filter((r) => r.status === 200);
      expect(busy.length).toBeGreaterThan(0);
      expect(ok.length + busy.length).toBe(40);
      expect(busy[0]!.headers.get('retry-after')).toBe('1');
      expect(((await busy[0]!.json()) as { error: { code: string } }).error.code).toBe('overloaded');
      const res = await fetch(`${weft.url}/v1/query/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${weft.secretKey}` },
        body: JSON.stringify({
          events: [{ event: 'load' }],
          from: '2000-01-01',
          to: '2100-01-01',
          interval: 'month',
        }),
      });
      const body = (await res.json()) as { series: Array<{ total: number }> };
      expect(body.series[0]!.total).toBe(ok.length * 50);
    } finally {
      await weft.close();
    }
  });
});
