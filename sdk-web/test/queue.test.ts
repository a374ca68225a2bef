// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { Queue, type QueueOptions } from '../src/queue.js';
import { memoryStore } from '../src/storage.js';
import type { Store } from '../src/types.js';
import { event, sleep } from './helpers.js';

/** Tabs of one site share localStorage; here, one memory store shared by several queues. */
function tabs(store: Store, clock: { t: number }, count: number, o: Partial<QueueOptions> = {}): Queue[] {
  return Array.from(
    { length: count },
    () =>
      new Queue(store, 'weft:k:', { leaseMs: 1000, confirmMs: 5, maxEvents: 100, now: () => clock.t, ...o }),
  );
}

const ids = (q: Queue) => q.take(1000).map((e) => e.event_id);

describe('persisted queue', () => {
  it('survives a reload: the closed page queue is adopted by the next page', async () => {
    const store = memoryStore();
    const clock = { t: 1000 };
    const [before] = tabs(store, clock, 1);
    const a = event();
    const b = event();
    before.push(a);
    before.push(b);
    before.close();
    const [after] = tabs(store, clock, 1);
    expect(await after.adopt()).toBe(2);
    expect(ids(after)).toEqual([a.event_id, b.event_id]);
    expect(store.keys('weft:k:q:')).toHaveLength(1);
  });

  it('never lets two tabs adopt the same orphaned events', async () => {
    const store = memoryStore();
    const clock = { t: 1000 };
    const [closed] = tabs(store, clock, 1);
    for (let i = 0; i < 5; i++) closed.push(event());
    closed.close();
    const live = tabs(store, clock, 3);
    const adopted = await Promise.all(live.map((q) => q.adopt()));
    expect(adopted.sort()).toEqual([0, 0, 5]);
    const all = live.flatMap(ids);
    expect(all).toHaveLength(5);
    expect(new Set(all).size).toBe(5);
  });

  it('leaves a live tab queue alone and adopts a crashed tab after its lease expires', async () => {
    const store = memoryStore();
    const clock = { t: 1000 };
    const [crashed, other] = tabs(store, clock, 2);
    crashed.push(event());
    crashed.persist();
    expect(await other.adopt()).toBe(0);
    clock.t += 1001;
    expect(await other.adopt()).toBe(1);
  });

  it('a throttled tab whose queue was taken over keeps only events it never stored', async () => {
    const store = memoryStore();
    const clock = { t: 1000 };
    const [slow, fast] = tabs(store, clock, 2);
    const stored = event();
    slow.push(stored);
    slow.persist();
    clock.t += 1001;
    fast.renew();
    expect(await fast.adopt()).toBe(1);
    const fresh = event();
    slow.push(fresh);
    slow.persist();
    expect(ids(slow)).toEqual([fresh.event_id]);
    expect(ids(fast)).toEqual([stored.event_id]);
  });

  it('does not hand out events already in flight, and acks remove them from storage', async () => {
    const store = memoryStore();
    const [q] = tabs(store, { t: 0 }, 1);
    const evs = [event(), event(), event()];
    for (const e of evs) q.push(e);
    const first = q.take(2);
    expect(q.take(10).map((e) => e.event_id)).toEqual([evs[2].event_id]);
    q.ack(first);
    expect(q.length).toBe(1);
    await sleep(1);
    const stored = store.keys('weft:k:q:').map((k) => JSON.parse(store.get(k)!));
    expect(stored).toEqual([[evs[2]]]);
  });

  it('bounds its size by dropping the oldest events', () => {
    const [q] = tabs(memoryStore(), { t: 0 }, 1, { maxEvents: 3 });
    const evs = [event(), event(), event(), event(), event()];
    for (const e of evs) q.push(e);
    expect(ids(q)).toEqual(evs.slice(2).map((e) => e.event_id));
  });
});
