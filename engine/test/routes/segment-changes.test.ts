import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticKeys } from '@weft/core';
import { installErrorHandler } from '@weft/ingest';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSecretRoutes } from '../../src/routes/secret-scope.js';
import { registerChangeRoutes } from '../../src/routes/segment-changes.js';
import { ChangeFeed } from '../../src/segments/change-feed.js';
import type { SegmentChange } from '../../src/segments/protocol.js';
import { SegmentStore } from '../../src/segments/store.js';

interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The change routes over a feed on `dir` (opening the same dir again is a restart). */
async function serve(dir: string, retainedChunks = 10) {
  const store = new SegmentStore(dir);
  const feed = new ChangeFeed(join(dir, 'changes'), store, { log: { chunkSize: 2, retainedChunks } });
  const app = Fastify();
  installErrorHandler(app);
  await registerSecretRoutes(
    app,
    new StaticKeys([{ project: 'p', writeKey: 'wk', secretKey: 'sk' }]),
    (scope) => registerChangeRoutes(scope, { store, feed }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.close();
    feed.close();
  };
  closers.push(close);
  return { url, app, feed, close };
}

function change(distinctId: string, project = 'p'): SegmentChange {
  return { project, segment: 'seg_a', distinct_id: distinctId, change: 'entry', at: 1 };
}

/** An SSE connection; `next(n)` reads until n more events (comments skipped). */
async function connect(url: string, lastEventId?: string) {
  const headers: Record<string, string> = { authorization: 'Bearer sk' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await fetch(`${url}/v1/segments/changes`, { headers });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (n: number): Promise<SseEvent[]> => {
    const out: SseEvent[] = [];
    while (out.length < n) {
      const end = buffer.indexOf('\n\n');
      if (end < 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value);
        continue;
      }
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = new Map(
        block
          .split('\n')
          .filter((l) => !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)] as const),
      );
      if (!fields.has('data')) continue;
      const event: SseEvent = { event: fields.get('event')!, data: JSON.parse(fields.get('data')!) };
      if (fields.has('id')) event.id = fields.get('id');
      out.push(event);
    }
    return out;
  };
  return { status: res.status, next, close: () => reader.cancel() };
}

describe('segment change stream', () => {
  it('replays what a client missed, across a restart, then goes live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-sse-'));
    dirs.push(dir);
    const first = await serve(dir);
    const live = await connect(first.url);
    first.feed.publish([change('u1')]);
    const [seen] = await live.next(1);
    expect(seen).toMatchObject({
      id: '1',
      event: 'entry',
      data: { id: 1, distinct_id: 'u1', segment: 'seg_a' },
    });
    await live.close();
    first.feed.publish([change('u2'), change('other', 'q'), change('u3')]);
    await first.close();

    const second = await serve(dir);
    second.feed.publish([change('u4')]);
    const resumed = await connect(second.url, seen!.id);
    const replayed = await resumed.next(3);
    expect(replayed.map((e) => [e.id, e.data.distinct_id])).toEqual([
      ['2', 'u2'],
      ['4', 'u3'],
      ['5', 'u4'],
    ]);
    second.feed.publish([change('u5')]);
    expect((await resumed.next(1))[0]).toMatchObject({ id: '6', data: { distinct_id: 'u5' } });
    await resumed.close();
  });

  it('says so with a gap event when the id is older than retention, then replays what is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-sse-'));
    dirs.push(dir);
    const s = await serve(dir, 2);
    s.feed.publish(Array.from({ length: 10 }, (_, i) => change(`u${i + 1}`)));
    expect(s.feed.oldestId).toBe(7);
    const client = await connect(s.url, '3');
    const events = await client.next(5);
    expect(events[0]).toEqual({ event: 'gap', data: { last_event_id: 3, oldest_id: 7, reason: 'expired' } });
    expect(events.slice(1).map((e) => e.id)).toEqual(['7', '8', '9', '10']);
    await client.close();
  });

  it('answers an id it never handed out with a gap event, and a malformed one with 400', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-sse-'));
    dirs.push(dir);
    const s = await serve(dir);
    s.feed.publish([change('u1')]);
    const client = await connect(s.url, '99');
    expect((await client.next(1))[0]).toEqual({
      event: 'gap',
      data: { last_event_id: 99, oldest_id: 1, reason: 'unknown' },
    });
    s.feed.publish([change('u2')]);
    expect((await client.next(1))[0]).toMatchObject({ id: '2' });
    await client.close();
    const bad = await s.app.inject({
      url: '/v1/segments/changes',
      headers: { authorization: 'Bearer sk', 'last-event-id': 'abc' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/^Last-Event-ID/);
  });
});
