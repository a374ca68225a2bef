import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeLog, type LoggedChange } from '../../src/segments/change-log.js';
import type { SegmentChange } from '../../src/segments/protocol.js';
import { SegmentStore } from '../../src/segments/store.js';
import { DELIVERY_HEADER, type Poster, WebhookOutbox } from '../../src/segments/webhook-outbox.js';

interface Delivery {
  url: string;
  id: string;
  body: { delivery_id: string; changes: LoggedChange[]; gap?: { after: number; next: number } };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A receiver that answers from a script (true = 2xx) and records every attempt. */
class Receiver {
  readonly attempts: Delivery[] = [];
  constructor(readonly up: boolean) {}
  readonly post: Poster = async (url, body, headers) => {
    this.attempts.push({ url, id: headers[DELIVERY_HEADER]!, body: JSON.parse(body) });
    return this.up;
  };
}

/** The engine's pieces on one data dir: store, log and outbox; `open` again is a restart. */
function open(dir: string, receiver: Receiver, maxBatch = 500, retainedChunks = 20) {
  const store = new SegmentStore(dir);
  const log = new ChangeLog(join(dir, 'changes'), { chunkSize: 4, retainedChunks });
  const outbox = new WebhookOutbox(join(dir, 'changes'), store, log, {
    post: receiver.post,
    retryDelay: () => 5,
    maxBatch,
  });
  const publish = (changes: SegmentChange[]): void => {
    log.append(changes);
    for (const p of new Set(changes.map((c) => c.project))) outbox.wake(p);
  };
  const close = (): void => {
    outbox.stop();
    log.close();
  };
  return { store, log, outbox, publish, close };
}

function change(distinctId: string, segment = 'a', project = 'p'): SegmentChange {
  return { project, segment, distinct_id: distinctId, change: 'entry', at: 1 };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('webhook outbox', () => {
  it('delivers in order, filtered by project and segment, in bounded batches with delivery ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-outbox-'));
    dirs.push(dir);
    const receiver = new Receiver(true);
    const e = open(dir, receiver, 2);
    e.publish([change('before')]);
    e.outbox.add('p', { id: 'wh_a', url: 'http://a', segment: 'a', created_at: 0 });
    e.publish([change('x1'), change('y1', 'b'), change('x2'), change('z', 'a', 'q'), change('x3')]);
    await until(() => receiver.attempts.flatMap((d) => d.body.changes).length === 3);
    expect(receiver.attempts.map((d) => d.body.changes.map((c) => c.distinct_id))).toEqual([
      ['x1', 'x2'],
      ['x3'],
    ]);
    expect(receiver.attempts.map((d) => d.id)).toEqual(['wh_a-2-4', 'wh_a-5-6']);
    expect(receiver.attempts[0]!.body.delivery_id).toBe('wh_a-2-4');
    expect(receiver.attempts[0]!.body.changes[0]).toMatchObject({ id: 2, segment: 'a', project: 'p' });
    e.close();
  });

  it('keeps undelivered changes across a restart, retries the same batch under the same id, then the rest in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-outbox-'));
    dirs.push(dir);
    const down = new Receiver(false);
    const first = open(dir, down, 2);
    first.outbox.add('p', { id: 'wh_a', url: 'http://a', created_at: 0 });
    first.publish([change('u1'), change('u2'), change('u3')]);
    // Retried with backoff while the receiver is down, always the same batch.
    await until(() => down.attempts.length >= 3);
    expect(new Set(down.attempts.map((d) => d.id))).toEqual(new Set(['wh_a-1-2']));
    first.close();

    const up = new Receiver(true);
    const second = open(dir, up, 2);
    second.publish([change('u4')]);
    await until(() => up.attempts.flatMap((d) => d.body.changes).length === 4);
    expect(up.attempts.map((d) => d.id)).toEqual(['wh_a-1-2', 'wh_a-3-4']);
    expect(up.attempts.flatMap((d) => d.body.changes.map((c) => c.distinct_id))).toEqual([
      'u1',
      'u2',
      'u3',
      'u4',
    ]);
    second.close();

    // Acknowledged deliveries are not repeated after another restart.
    const third = open(dir, up, 2);
    third.publish([change('u5')]);
    await until(() => up.attempts.length === 3);
    expect(up.attempts[2]!.body.changes.map((c) => c.id)).toEqual([5]);
    third.close();
  });

  it('pins undelivered changes in the log, and forgets a removed subscription', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-outbox-'));
    dirs.push(dir);
    const down = new Receiver(false);
    const e = open(dir, down, 500, 1);
    e.outbox.add('p', { id: 'wh_a', url: 'http://a', created_at: 0 });
    e.publish(Array.from({ length: 9 }, (_, i) => change(`u${i}`)));
    expect(e.outbox.delivered()).toBe(0);
    e.log.trim(e.outbox.delivered());
    expect(e.log.oldestId).toBe(1);
    expect(e.outbox.remove('p', 'wh_a')).toBe(true);
    expect(e.store.webhooks('p')).toEqual([]);
    expect(e.outbox.delivered()).toBe(9);
    e.log.trim(e.outbox.delivered());
    expect(e.log.oldestId).toBe(9);
    e.close();
  });
});
