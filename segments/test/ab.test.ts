import { WeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { abBucket, assignVariant, parseVariants, type Variant } from '../src/ab.js';

const USERS = 100_000;
const ids = Array.from({ length: USERS }, (_, i) => `user_${i}`);

function shares(key: string, variants: Variant[]): Map<string, number> {
  const counts = new Map(variants.map((v) => [v.name, 0]));
  for (const id of ids) {
    const name = assignVariant(key, id, variants);
    counts.set(name, counts.get(name)! + 1);
  }
  return new Map([...counts].map(([name, n]) => [name, n / USERS]));
}

describe('assignVariant', () => {
  const weightSets: Variant[][] = [
    [
      { name: 'a', weight: 50 },
      { name: 'b', weight: 50 },
    ],
    [
      { name: 'control', weight: 10 },
      { name: 'test', weight: 90 },
    ],
    [
      { name: 'x', weight: 1 },
      { name: 'y', weight: 1 },
      { name: 'z', weight: 1 },
    ],
    [
      { name: 'a', weight: 0.7 },
      { name: 'b', weight: 0.2 },
      { name: 'c', weight: 0.1 },
    ],
    [
      { name: 'a', weight: 5 },
      { name: 'off', weight: 0 },
      { name: 'b', weight: 95 },
    ],
    [
      { name: 'v1', weight: 10 },
      { name: 'v2', weight: 20 },
      { name: 'v3', weight: 30 },
      { name: 'v4', weight: 25 },
      { name: 'v5', weight: 15 },
    ],
  ];

  it.each(weightSets.map((w) => [w.map((v) => `${v.name}:${v.weight}`).join(' '), w] as const))(
    'is within 1%% of the weights over 100k sequential ids (%s)',
    (_, variants) => {
      const total = variants.reduce((s, v) => s + v.weight, 0);
      const observed = shares('checkout-test', variants);
      for (const v of variants) {
        expect(Math.abs(observed.get(v.name)! - v.weight / total), v.name).toBeLessThan(0.01);
      }
      if (variants.some((v) => v.weight === 0)) expect(observed.get('off')).toBe(0);
    },
  );

  it('is sticky: the same answer on every call, and pinned values never change', () => {
    const variants = weightSets[5]!;
    const first = ids.slice(0, 1000).map((id) => assignVariant('k', id, variants));
    expect(ids.slice(0, 1000).map((id) => assignVariant('k', id, variants))).toEqual(first);
    // Shards and restarts depend on these exact values: a change to the hash must fail here.
    expect(['user_0', 'user_1', 'user_2', 'alice'].map((id) => abBucket('pinned', id))).toEqual([
      2752903835, 2056760339, 1785705559, 1382130914,
    ]);
  });

  it('gives independent assignments for different keys', () => {
    const half: Variant[] = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ];
    const joint = new Map<string, number>();
    for (const id of ids) {
      const cell = `${assignVariant('exp-1', id, half)}${assignVariant('exp-2', id, half)}`;
      joint.set(cell, (joint.get(cell) ?? 0) + 1);
    }
    for (const cell of ['aa', 'ab', 'ba', 'bb'])
      expect(Math.abs(joint.get(cell)! / USERS - 0.25)).toBeLessThan(0.01);
  });

  it('does not confuse (key, id) pairs that concatenate alike', () => {
    expect(abBucket('ab', 'c')).not.toBe(abBucket('a', 'bc'));
  });
});

describe('parseVariants', () => {
  it('accepts weights >= 0 with a positive sum', () => {
    expect(
      parseVariants(
        [
          { name: 'a', weight: 0 },
          { name: 'b', weight: 2 },
        ],
        'v',
      ),
    ).toEqual([
      { name: 'a', weight: 0 },
      { name: 'b', weight: 2 },
    ]);
  });

  const bad: Array<[unknown, string]> = [
    [[], 'checks.t.ab.variants: expected 1 to 100 variants [{name, weight}]'],
    [{ a: 1 }, 'checks.t.ab.variants: expected 1 to 100 variants [{name, weight}]'],
    [[{ name: 'a', weight: 1 }, { weight: 1 }], 'checks.t.ab.variants[1].name: expected a non-empty name'],
    [
      [
        { name: 'a', weight: 1 },
        { name: 'a', weight: 1 },
      ],
      'checks.t.ab.variants[1].name: duplicate variant "a"',
    ],
    [[{ name: 'a', weight: -1 }], 'checks.t.ab.variants[0].weight: expected a number >= 0'],
    [[{ name: 'a', weight: '1' }], 'checks.t.ab.variants[0].weight: expected a number >= 0'],
    [[{ name: 'a', weight: 0 }], 'checks.t.ab.variants: at least one weight must be above 0'],
    [[null], 'checks.t.ab.variants[0].name: expected a non-empty name'],
  ];
  it.each(bad)('%j', (input, message) => {
    let thrown: unknown;
    try {
      parseVariants(input, 'checks.t.ab.variants');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WeftError);
    expect((thrown as WeftError).message).toBe(message);
  });
});
