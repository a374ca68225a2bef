import { describe, expect, it } from 'vitest';
import { FrequencyCaps } from '../src/frequency-cap.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 0, 10, 9, 0);

describe('sliding window', () => {
  it('allows max per window, then frees a slot when the oldest use is perMs old', () => {
    const caps = new FrequencyCaps('sliding');
    expect(caps.tryConsume('u', 'email', 3, HOUR, T0)).toEqual({
      allowed: true,
      remaining: 2,
      resetAt: T0 + HOUR,
    });
    expect(caps.tryConsume('u', 'email', 3, HOUR, T0 + 10 * MIN).remaining).toBe(1);
    expect(caps.tryConsume('u', 'email', 3, HOUR, T0 + 20 * MIN)).toEqual({
      allowed: true,
      remaining: 0,
      resetAt: T0 + HOUR,
    });
    expect(caps.tryConsume('u', 'email', 3, HOUR, T0 + 59 * MIN)).toEqual({
      allowed: false,
      remaining: 0,
      resetAt: T0 + HOUR,
    });
    expect(caps.tryConsume('u', 'email', 3, HOUR, T0 + HOUR - 1).allowed).toBe(false);
    expect(caps.tryConsume('u', 'email', 3, HOUR, T0 + HOUR)).toEqual({
      allowed: true,
      remaining: 0,
      resetAt: T0 + 10 * MIN + HOUR,
    });
  });

  it('keeps users and keys apart', () => {
    const caps = new FrequencyCaps();
    expect(caps.tryConsume('u', 'push', 1, DAY, T0).allowed).toBe(true);
    expect(caps.tryConsume('u', 'push', 1, DAY, T0).allowed).toBe(false);
    expect(caps.tryConsume('v', 'push', 1, DAY, T0).allowed).toBe(true);
    expect(caps.tryConsume('u', 'sms', 1, DAY, T0).allowed).toBe(true);
    expect(caps.tryConsume(7, 'push', 1, DAY, T0).allowed).toBe(true);
    expect(caps.tryConsume('7', 'push', 1, DAY, T0).allowed).toBe(true);
    expect(caps.size).toBe(5);
  });

  it('never allows with max 0 and holds no state for it', () => {
    const caps = new FrequencyCaps();
    expect(caps.tryConsume('u', 'k', 0, HOUR, T0)).toEqual({ allowed: false, remaining: 0, resetAt: T0 });
    expect(caps.size).toBe(0);
  });

  it('stays exact when calls arrive slightly out of time order', () => {
    const caps = new FrequencyCaps();
    caps.tryConsume('u', 'k', 2, HOUR, T0 + 5 * MIN);
    expect(caps.tryConsume('u', 'k', 2, HOUR, T0).resetAt).toBe(T0 + HOUR);
    expect(caps.tryConsume('u', 'k', 2, HOUR, T0 + HOUR).allowed).toBe(true);
    expect(caps.snapshot().entries).toEqual([['k', 'u', [HOUR, T0 + 5 * MIN, T0 + HOUR]]]);
  });

  it('refuses nonsense limits', () => {
    const caps = new FrequencyCaps();
    expect(() => caps.tryConsume('u', 'k', -1, HOUR, T0)).toThrow(RangeError);
    expect(() => caps.tryConsume('u', 'k', 1.5, HOUR, T0)).toThrow(RangeError);
    expect(() => caps.tryConsume('u', 'k', 1, 0, T0)).toThrow(RangeError);
  });
});

describe('fixed window', () => {
  it('counts per window aligned to multiples of perMs (a 1d cap resets at 00:00 UTC)', () => {
    const caps = new FrequencyCaps('fixed');
    const midnight = Date.UTC(2024, 0, 11);
    expect(caps.tryConsume('u', 'k', 2, DAY, T0)).toEqual({ allowed: true, remaining: 1, resetAt: midnight });
    expect(caps.tryConsume('u', 'k', 2, DAY, T0 + HOUR).allowed).toBe(true);
    expect(caps.tryConsume('u', 'k', 2, DAY, midnight - 1)).toEqual({
      allowed: false,
      remaining: 0,
      resetAt: midnight,
    });
    expect(caps.tryConsume('u', 'k', 2, DAY, midnight)).toEqual({
      allowed: true,
      remaining: 1,
      resetAt: midnight + DAY,
    });
    expect(caps.snapshot().entries).toEqual([['k', 'u', [DAY, midnight, 1]]]);
  });
});

describe('memory', () => {
  it('holds at most max times per counter and sweeps finished windows', () => {
    const caps = new FrequencyCaps();
    for (let i = 0; i < 1000; i++) caps.tryConsume(`u${i % 100}`, 'k', 3, HOUR, T0 + i * 1000);
    expect(caps.size).toBe(100);
    expect(Math.max(...caps.snapshot().entries.map(([, , state]) => state.length - 1))).toBe(3);
    expect(caps.sweep(T0 + HOUR)).toBe(0);
    expect(caps.sweep(T0 + 2 * HOUR)).toBe(100);
    expect(caps.size).toBe(0);
    expect(caps.snapshot().entries).toEqual([]);

    const fixed = new FrequencyCaps('fixed');
    fixed.tryConsume('u', 'k', 1, HOUR, T0 + MIN);
    expect(fixed.sweep(T0 + HOUR - 1)).toBe(0);
    expect(fixed.sweep(T0 + HOUR)).toBe(1);
  });
});

describe('snapshot and restore', () => {
  it('round-trips through JSON and carries on exactly', () => {
    for (const window of ['sliding', 'fixed'] as const) {
      const caps = new FrequencyCaps(window);
      caps.tryConsume('u', 'email', 2, HOUR, T0);
      caps.tryConsume(42, 'email', 2, HOUR, T0);
      caps.tryConsume('u', 'email', 2, HOUR, T0 + MIN);
      const copy = FrequencyCaps.restore(JSON.parse(JSON.stringify(caps.snapshot())));
      expect(copy.window).toBe(window);
      expect(copy.snapshot()).toEqual(caps.snapshot());
      expect(copy.tryConsume('u', 'email', 2, HOUR, T0 + 2 * MIN)).toEqual(
        caps.tryConsume('u', 'email', 2, HOUR, T0 + 2 * MIN),
      );
      expect(copy.tryConsume(42, 'email', 2, HOUR, T0 + 2 * MIN).allowed).toBe(true);
    }
  });

  it('rejects malformed snapshots', () => {
    expect(() => FrequencyCaps.restore({ window: 'rolling' as 'fixed', entries: [] })).toThrow(
      /unknown window/,
    );
    expect(() => FrequencyCaps.restore({ window: 'fixed', entries: [['k', 'u', [HOUR, T0]]] })).toThrow(
      /bad entry for key "k"/,
    );
    expect(() =>
      FrequencyCaps.restore({ window: 'sliding', entries: [['k', 'u', [HOUR, Number.NaN]]] }),
    ).toThrow(/bad entry/);
  });
});
