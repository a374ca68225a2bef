import type { WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { ProjectIndex } from '../../src/index/project-index.js';

let seq = 0;
function ev(
  distinct_id: string,
  event: string,
  time: number,
  properties: WeftEvent['properties'] = {},
): WeftEvent {
  return { event_id: `id-${seq++}`, project: 'p', event, distinct_id, time, received_at: time, properties };
}
const DAY = 86_400_000;

describe('ProjectIndex', () => {
  it('indexes rows into (event, day) bitmaps and time-ordered timelines', () => {
    const idx = new ProjectIndex('p');
    idx.applyEvents([ev('a', 'view', 2 * DAY + 5), ev('a', 'view', 2 * DAY + 1), ev('b', 'view', 3 * DAY)]);
    const days = idx.eventDays.get(idx.values.find('view'))!;
    expect([...days.keys()].sort()).toEqual([2, 3]);
    expect(days.get(2)!.users.size).toBe(1);
    expect(days.get(2)!.rows.length).toBe(2);
    expect(idx.timeline('a')!.map((e) => e.time)).toEqual([2 * DAY + 1, 2 * DAY + 5]);
  });

  it('skips an event whose event_id it already has', () => {
    const idx = new ProjectIndex('p');
    const e = ev('a', 'buy', 1000, { price: 3 });
    expect(idx.applyEvents([e, { ...e, time: 2000 }])).toBe(1);
    expect(idx.rowCount).toBe(1);
  });

  it('keeps properties, sessions and profiles', () => {
    const idx = new ProjectIndex('p');
    idx.applyEvents([
      {
        ...ev('a', 'buy', 1000, { price: 3, ok: true, note: null }),
        session_id: 's1',
        $set: { plan: 'pro' },
      },
      { ...ev('a', 'x', 2000), $set_once: { plan: 'free', first: 'x' } },
    ]);
    const [first] = idx.timeline('a')!;
    expect(first!.properties).toEqual({ price: 3, ok: true, note: null });
    expect(first!.session_id).toBe('s1');
    expect(idx.profile('a')).toEqual({ plan: 'pro', first: 'x' });
  });

  it.each([
    ['neither id known', [], 1],
    ['only the anonymous id known', [ev('anon', 'view', 1)], 2],
    ['only the login id known', [ev('user', 'view', 1)], 2],
    ['both known: merged', [ev('anon', 'view', 1), ev('user', 'view', 2)], 3],
  ])('identify with %s: both ids resolve to one user with all events', (_name, before, events) => {
    const idx = new ProjectIndex('p');
    idx.applyEvents(before);
    idx.applyEvents([ev('user', '$identify', 5, { $anon_distinct_id: 'anon' })]);
    expect(idx.ids.get('anon')).toBe(idx.ids.get('user'));
    expect(idx.timeline('anon')!.length).toBe(events);
    expect(idx.timeline('user')).toEqual(idx.timeline('anon'));
    const days = idx.eventDays.get(idx.values.find('$identify'))!;
    expect(days.get(0)!.users.toArray()).toEqual([idx.ids.get('user')]);
    if (before.length === 2) {
      const views = idx.eventDays.get(idx.values.find('view'))!.get(0)!;
      expect(views.users.toArray()).toEqual([idx.ids.get('user')]);
      expect(views.rows.length).toBe(2);
    }
  });

  it('knows every id of a person and which persons changed, through renames, merges and evictions', () => {
    const idx = new ProjectIndex('p');
    idx.personChanges = new Set();
    idx.applyEvents([ev('a', 'view', 1), ev('c', 'view', 2), ev('lone', 'view', 3)]);
    expect(idx.personChanges.size).toBe(0);
    idx.applyEvents([ev('b', '$identify', 4, { $anon_distinct_id: 'a' })]);
    const ab = idx.ids.get('a')!;
    expect([idx.names[ab], [...idx.idsOf(ab)]]).toEqual(['b', ['a', 'b']]);
    expect([...idx.personChanges]).toEqual([ab]);
    idx.personChanges.clear();
    // c has events: a and b merge into it.
    idx.applyEvents([ev('c', '$identify', 5, { $anon_distinct_id: 'b' })]);
    const c = idx.ids.get('c')!;
    expect([idx.ids.get('a'), idx.names[c], [...idx.idsOf(c)].sort()]).toEqual([c, 'c', ['a', 'b', 'c']]);
    expect(idx.idsOf(ab)).toEqual([]);
    expect([...idx.personChanges]).toEqual([c]);
    expect([...idx.multiIdUsers()]).toEqual([c]);
    expect(idx.idsOf(idx.ids.get('lone')!)).toEqual(['lone']);
    idx.evict('b');
    expect(['a', 'b', 'c'].map((id) => idx.ids.get(id))).toEqual([undefined, undefined, undefined]);
    expect([...idx.multiIdUsers()]).toEqual([]);
  });

  it('evicts a user: rows leave bitmaps and timelines and come back as stored events', () => {
    const idx = new ProjectIndex('p');
    idx.applyEvents([ev('anon', 'view', 10, { a: 1 }), ev('anon', 'click', 20), ev('other', 'view', 30)]);
    idx.applyEvents([{ ...ev('anon', 'x', 40), $set: { k: 1 } }]);
    const moved = idx.evict('anon')!;
    expect(moved.events.map((e) => e.event)).toEqual(['view', 'click', 'x']);
    expect(moved.profile).toEqual({ k: 1 });
    expect(idx.timeline('anon')).toBeUndefined();
    const views = idx.eventDays.get(idx.values.find('view'))!.get(0)!;
    expect(views.users.size).toBe(1);
    expect(views.rows.length).toBe(1);

    const target = new ProjectIndex('p');
    target.applyEvents([ev('user', '$identify', 50, { $anon_distinct_id: 'anon' })]);
    target.applyMoved('anon', moved);
    target.applyMoved('anon', moved);
    expect(target.timeline('user')!.map((e) => e.event)).toEqual(['view', 'click', 'x', '$identify']);
    expect(target.profile('user')).toEqual({ k: 1 });
  });

  it('moves every id of a person: the new shard answers to each with one user', () => {
    const source = new ProjectIndex('p');
    source.applyEvents([
      ev('a', 'view', 10),
      ev('b', '$identify', 20, { $anon_distinct_id: 'a' }),
      ev('b', 'cart', 30),
    ]);
    const moved = source.evict('b')!;
    expect(moved.ids.sort()).toEqual(['a', 'b']);

    const target = new ProjectIndex('p');
    target.personChanges = new Set();
    target.applyEvents([ev('c', 'home', 5), ev('c', '$identify', 40, { $anon_distinct_id: 'b' })]);
    // An event of `a` that got here before its aliases would start a person of its own: the
    // aliases written ahead of the move, and the move itself, fold it into the person.
    target.applyEvents([ev('a', 'late', 50)]);
    expect(target.ids.get('a')).not.toBe(target.ids.get('c'));
    target.aliasAll('b', ['a']);
    target.applyMoved('b', moved);
    target.applyMoved('b', moved);
    const c = target.ids.get('c')!;
    expect(['a', 'b'].map((id) => target.ids.get(id))).toEqual([c, c]);
    expect([...target.idsOf(c)].sort()).toEqual(['a', 'b', 'c']);
    const timeline = target.timeline('a')!.map((e) => e.event);
    expect(timeline).toEqual(['home', 'view', '$identify', 'cart', '$identify', 'late']);
    expect(target.timeline('c')!.map((e) => e.event)).toEqual(timeline);
    expect(target.userCount).toBe(3);
    expect(target.eventDays.get(target.values.find('late'))!.get(0)!.users.toArray()).toEqual([c]);
    expect([...target.personChanges]).toContain(c);
  });
});
