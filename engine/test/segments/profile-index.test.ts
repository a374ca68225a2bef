import { describe, expect, it } from 'vitest';
import { ProfileIndex } from '../../src/segments/profile-index.js';

describe('ProfileIndex', () => {
  it('moves a user between value bitmaps as its profile changes, across types', () => {
    const index = new ProfileIndex();
    index.update(0, { plan: 'pro', age: 30, vip: true });
    index.update(1, { plan: 'free', age: 30.5, vip: null });
    index.update(2, { plan: 7 });
    const users = (cond: Parameters<ProfileIndex['matching']>[0]) => index.matching(cond).toArray();
    expect(users({ prop: 'plan', op: 'eq', value: 'pro' })).toEqual([0]);
    expect(users({ prop: 'plan', op: 'in', value: ['pro', 7] })).toEqual([0, 2]);
    expect(users({ prop: 'age', op: 'between', value: [30, 30.25] })).toEqual([0]);
    expect(users({ prop: 'vip', op: 'eq', value: null })).toEqual([1]);
    index.update(0, { plan: 'team', age: 'unknown' });
    expect(users({ prop: 'plan', op: 'eq', value: 'pro' })).toEqual([]);
    expect(users({ prop: 'plan', op: 'contains', value: 'ea' })).toEqual([0]);
    expect(users({ prop: 'age', op: 'gte', value: 0 })).toEqual([1]);
    expect(users({ prop: 'age', op: 'set' })).toEqual([0, 1]);
    index.clear(1);
    expect(users({ prop: 'age', op: 'set' })).toEqual([0]);
    expect(users({ prop: 'missing', op: 'set' })).toEqual([]);
    expect(index.isNumeric('age')).toBe(false);
  });
});
