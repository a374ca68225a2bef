import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { shardOf } from '@weft/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ChangeLog } from '../../src/segments/change-log.js';
import { postBatch, SECRET_KEY } from '../e2e/server-process.js';
import { call, eventually, freePort, owned, processSuite } from './kafka-env.js';

const { root, start } = processSuite('changes');
let receiver: Server | undefined;

afterAll(() => {
  receiver?.close();
});

interface StreamedChange {
  id: number;
  distinct_id: string;
  change: string;
}

/** Reads a change stream until `count` changes arrived (the ids from each event's `id:` line). */
async function readStream(
  url: string,
  segment: string,
  count: number,
  lastEventId?: number,
): Promise<StreamedChange[]> {
  const res = await fetch(`${url}/v1/segments/changes?segment=${segment}`, {
    headers: {
      authorization: `Bearer ${SECRET_KEY}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }),
    },
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const out: StreamedChange[] = [];
  let text = '';
  const timeout = setTimeout(() => void reader.cancel(), 60_000);
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const id = /^id: (\d+)$/m.exec(block);
      const data = /^data: (.*)$/m.exec(block);
      if (id && data) {
        const c = JSON.parse(data[1]!) as StreamedChange;
        out.push({ id: Number(id[1]), distinct_id: c.distinct_id, change: c.change });
      }
      end = text.indexOf('\n\n');
    }
  }
  clearTimeout(timeout);
  await reader.cancel();
  return out;
}

const T = Date.UTC(2026, 7, 1);
const USERS = 60;
const user = (i: number) => `kc-user-${i}`;

describe('segment changes, sizes and runs shared by engine processes through Kafka', () => {
  it('streams and webhooks on either process carry every partition’s changes with the same ids, and sizes and runs are one history', async () => {
    const posted: Array<{ distinct_id: string; change: string }> = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        posted.push(...(JSON.parse(body) as { changes: typeof posted }).changes);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    // a ran embedded before: its data dir holds a change log numbered apart from the topic.
    const embedded = new ChangeLog(join(root, 'a', 'segments', 'changes'));
    embedded.append(
      Array.from({ length: 100 }, (_, i) => ({
        project: 'default',
        segment: 'old',
        distinct_id: `old-${i}`,
        change: 'entry' as const,
        at: T,
      })),
    );
    embedded.close();
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await start('a', pa, pb);
    const b = await start('b', pb, pa);
    const [onA, onB] = await eventually(
      'the group splits the partitions',
      async () => [await owned(a.url), await owned(b.url)],
      ([x, y]) => x!.length === 2 && y!.length === 2,
    );
    const shards = Array.from({ length: USERS }, (_, i) => shardOf('default', user(i), 4));
    expect(shards.some((s) => onA!.includes(s)) && shards.some((s) => onB!.includes(s))).toBe(true);

    const seg = await call(a.url, 'POST', '/v1/segments?validate=loose', {
      name: 'buyers',
      mode: 'realtime',
      definition: { did: 'kc_buy' },
    });
    expect(seg.status).toBe(201);
    const id = (seg.body as { id: string }).id;
    await eventually(
      'b knows the segment',
      async () => (await call(b.url, 'GET', `/v1/segments/${id}`)).status,
      (s) => s === 200,
      10_000,
    );
    // The webhook belongs to b; the stream is a's.
    expect((await call(b.url, 'POST', '/v1/segments/webhooks', { url: hookUrl, segment: id })).status).toBe(
      201,
    );
    const streamed = readStream(a.url, id, USERS);
    const buys = Array.from({ length: USERS }, (_, i) => ({
      event_id: `kc-b-${i}`,
      event: 'kc_buy',
      distinct_id: user(i),
      time: T + i,
    }));
    expect((await postBatch(b.url, buys)).status).toBe(200);

    const onStream = await streamed;
    expect(onStream.map((c) => c.distinct_id).sort()).toEqual(buys.map((e) => e.distinct_id).sort());
    expect(onStream.every((c) => c.change === 'entry')).toBe(true);
    const ids = onStream.map((c) => c.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(USERS);

    // A client moving to the other process resumes where it was, with the same ids.
    const resumed = await readStream(b.url, id, USERS - 10, ids[9]);
    expect(resumed).toEqual(onStream.slice(10));

    await eventually(
      'the webhook on b got every entry',
      async () => posted.length,
      (n) => n >= USERS,
      20_000,
    );
    expect(posted.map((c) => c.distinct_id).sort()).toEqual(buys.map((e) => e.distinct_id).sort());

    // Sizes and runs: one history on both processes, wherever they were recorded.
    const ran = await call(b.url, 'POST', `/v1/segments/${id}/run`);
    expect(ran.body).toEqual({ id, size: USERS });
    const history = async (url: string) =>
      ((await call(url, 'GET', `/v1/segments/${id}/history`)).body as { sizes: Array<{ size: number }> })
        .sizes;
    const sizesOnB = await history(b.url);
    expect(sizesOnB.map((s) => s.size)).toEqual([0, USERS]);
    await eventually(
      'a shows the same history',
      () => history(a.url),
      (sizes) => JSON.stringify(sizes) === JSON.stringify(sizesOnB),
      10_000,
    );
    const lastRun = async (url: string) =>
      ((await call(url, 'GET', `/v1/segments/${id}`)).body as { last_run_at: number | null }).last_run_at;
    expect(await lastRun(a.url)).toBe(await lastRun(b.url));
    expect(await lastRun(a.url)).not.toBeNull();
  }, 180_000);
});
