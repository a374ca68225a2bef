import type { WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { ProjectIndex } from '../../src/index/project-index.js';
import { TimelineBuffer } from '../../src/index/timelines.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let seq = 0;
const ev = (user: string, time: number, event = 'e'): WeftEvent => ({
  event_id: `t${seq++}`,
  project: 'p',
  event,
  distinct_id: user,
  time,
  received_at: time,
  session_id: `${user}-s`,
  properties: { n: seq },
});

/** What a timeline must read as: the user's rows by (time, row). */
function expected(idx: ProjectIndex, user: string): number[] {
  const n = idx.ids.get(user)!;
  const rows: number[] = [];
  for (let r = 0; r < idx.rowCount; r++) if (idx.user.data[r] === n) rows.push(r);
  return rows.sort((a, b) => idx.time.data[a]! - idx.time.data[b]! || a - b);
}

function columns(idx: ProjectIndex, user: string) {
  const buf = new TimelineBuffer();
  idx.timelines.readColumns(idx.ids.get(user)!, buf);
  const out = {
    rows: [] as number[],
    times: [] as number[],
    events: [] as number[],
    sessions: [] as number[],
  };
  for (let i = buf.from; i < buf.to; i++) {
    out.rows.push(buf.rows[i]!);
    out.times.push(buf.times[i]!);
    out.events.push(buf.events[i]!);
    out.sessions.push(buf.sessions[i]!);
  }
  return out;
}

describe('timelines', () => {
  it('read in (time, row) order through out-of-order arrivals, reseals and merges', () => {
    const r = rng(3);
    const idx = new ProjectIndex('p');
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    // Enough rows to cross the reseal threshold several times, mostly in time order.
    let t = 1_000_000;
    for (let i = 0; i < 300_000; i++) {
      t += Math.floor(r() * 5);
      const late = r() < 0.05 ? Math.floor(r() * 10_000) : 0;
      idx.applyEvents([ev(users[Math.floor(r() * users.length)]!, t - late)]);
    }
    idx.applyEvents(
      [ev('u1', 1_500_000, '$identify')].map((e) => ({ ...e, properties: { $anon_distinct_id: 'u2' } })),
    );
    for (const u of ['u0', 'u1', 'u2', 'u39']) {
      const want = expected(idx, u);
      expect(Array.from(idx.userRows(idx.ids.get(u)!))).toEqual(want);
      const cols = columns(idx, u);
      expect(cols.rows).toEqual(want);
      expect(cols.times).toEqual(want.map((row) => idx.time.data[row]));
      expect(cols.events).toEqual(want.map((row) => idx.event.data[row]));
      expect(cols.sessions).toEqual(want.map((row) => idx.session.data[row]));
    }
    idx.timelines.seal();
    expect(columns(idx, 'u1').rows).toEqual(expected(idx, 'u1'));
  });

  it('forget an evicted user and keep the rest after a reseal', () => {
    const idx = new ProjectIndex('p');
    idx.applyEvents([ev('a', 30), ev('b', 10), ev('a', 20), ev('b', 5)]);
    idx.timelines.seal();
    idx.applyEvents([ev('a', 1), ev('b', 40)]);
    const a = idx.ids.get('a')!;
    idx.evict('a');
    expect(idx.userRows(a).length).toBe(0);
    idx.timelines.seal();
    expect(idx.userRows(a).length).toBe(0);
    expect(columns(idx, 'b').times).toEqual([5, 10, 40]);
  });

  it('a reseal (merge of sealed slices and tails) reads as a rebuild from the columns', () => {
    const r = rng(11);
    const idx = new ProjectIndex('p');
    // Many users, few rows each: most reseals copy long runs of users without tail rows.
    const users = Array.from({ length: 5000 }, (_, i) => `u${i}`);
    let t = 1_000_000;
    for (let round = 0; round < 4; round++) {
      const batch: WeftEvent[] = [];
      for (let i = 0; i < 30_000; i++) {
        t += Math.floor(r() * 3);
        const late = r() < 0.1 ? Math.floor(r() * 50_000) : 0;
        batch.push(ev(users[Math.floor(r() * users.length)]!, t - late));
      }
      idx.applyEvents(batch);
      idx.evict(users[round * 7]!);
      idx.applyEvents(
        [ev(`n${round}`, t, '$identify')].map((e) => ({
          ...e,
          properties: { $anon_distinct_id: users[round * 7 + 1]! },
        })),
      );
      idx.timelines.seal();
    }
    idx.applyEvents([ev('u3', 5), ev('late', t + 1)]);
    const live = [...idx.ids.keys()];
    const sealed = new Map(live.map((u) => [u, columns(idx, u)]));
    idx.timelines.rebuild();
    for (const u of live) expect(sealed.get(u)).toEqual(columns(idx, u));
    for (const u of ['u3', 'late', 'n1', 'u8', 'u100']) expect(sealed.get(u)!.rows).toEqual(expected(idx, u));
  });

  it('property columns stay current as rows arrive', () => {
    const idx = new ProjectIndex('p');
    idx.applyEvents([ev('a', 1), ev('a', 2)]);
    const key = idx.values.find('n');
    expect(Array.from(idx.propColumn(key).subarray(0, 2)).map((v) => idx.values.get(v))).toEqual([
      seq - 1,
      seq,
    ]);
    idx.applyEvents([{ ...ev('a', 3), properties: {} }, ev('a', 4)]);
    const col = idx.propColumn(key);
    expect(col[2]).toBe(-1);
    expect(idx.values.get(col[3]!)).toBe(seq);
  });
});
