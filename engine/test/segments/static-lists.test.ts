import { describe, expect, it } from 'vitest';
import { harness } from './helpers.js';

const T0 = Date.UTC(2026, 0, 10, 12);

type Harness = ReturnType<typeof harness>;

function upload(h: Harness, ids: string[]): void {
  h.segments.define([{ id: 'list', mode: 'static', members: ids }]);
}

/** Whether the shard answers "member" for this distinct id (what contains and decide ask). */
function contains(h: Harness, distinctId: string): boolean {
  const user = h.index.ids.get(distinctId);
  return user !== undefined && (h.segments.members('list')?.has(user) ?? false);
}

function identify(h: Harness, login: string, anon: string): void {
  h.send([{ event: '$identify', distinct_id: login, properties: { $anon_distinct_id: anon } }]);
}

describe('static lists resolve aliases', () => {
  it('a listed anonymous id stays a member after login, answering by either id', () => {
    const h = harness(T0);
    h.send([{ event: 'visit', distinct_id: 'anon-1' }]);
    upload(h, ['anon-1']);
    identify(h, 'login-1', 'anon-1');
    expect(contains(h, 'anon-1')).toBe(true);
    expect(contains(h, 'login-1')).toBe(true);
    expect(h.segments.members('list')!.size).toBe(1);
  });

  it('a listed login id takes in the anonymous visitor who later logs in as it', () => {
    const h = harness(T0);
    h.send([{ event: 'visit', distinct_id: 'anon-2' }]);
    upload(h, ['login-2']);
    expect(contains(h, 'anon-2')).toBe(false);
    identify(h, 'login-2', 'anon-2');
    expect(contains(h, 'anon-2')).toBe(true);
    expect(contains(h, 'login-2')).toBe(true);
    expect(h.changes).toEqual([
      expect.objectContaining({ segment: 'list', distinct_id: 'login-2', change: 'entry' }),
    ]);
  });

  it('a list naming both ids of one person counts one member', () => {
    const h = harness(T0);
    upload(h, ['anon-3', 'login-3']);
    h.send([{ event: 'visit', distinct_id: 'anon-3' }]);
    identify(h, 'login-3', 'anon-3');
    expect(h.segments.members('list')!.size).toBe(1);
    expect(h.changes.filter((c) => c.change === 'entry')).toHaveLength(1);
  });

  it('an anonymous id identified on the shard of its login id joins there (history moved across shards)', () => {
    // Shard B owns the login id; the anonymous id's events lived on another shard until the identify.
    const b = harness(T0);
    b.send([{ event: 'visit', distinct_id: 'login-4' }]);
    upload(b, ['anon-4']);
    expect(contains(b, 'login-4')).toBe(false);
    identify(b, 'login-4', 'anon-4');
    b.index.applyMoved('anon-4', { ids: ['anon-4'], events: [], profile: undefined });
    b.segments.movedIn('anon-4');
    expect(contains(b, 'anon-4')).toBe(true);
    expect(contains(b, 'login-4')).toBe(true);
  });

  it('an upload after the login resolves the anonymous id to the person', () => {
    const h = harness(T0);
    h.send([{ event: 'visit', distinct_id: 'anon-5' }]);
    identify(h, 'login-5', 'anon-5');
    upload(h, ['anon-5']);
    expect(contains(h, 'login-5')).toBe(true);
  });
});
