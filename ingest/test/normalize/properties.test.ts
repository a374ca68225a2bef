import { describe, expect, it } from 'vitest';
import { isPlainObject, normalizeProperties } from '../../src/normalize/properties.js';
import { limits } from '../helpers.js';

describe('normalizeProperties', () => {
  it('adopts an object that is already flat and valid without copying it', () => {
    const input = { a: 'x', b: 1, c: true, d: null, $url: 'https://e.com' };
    expect(normalizeProperties(input, 'properties', limits)).toBe(input);
  });

  it('accepts an empty object', () => {
    expect(normalizeProperties({}, 'properties', limits)).toEqual({});
  });

  it('flattens nested objects with dotted keys into a copy', () => {
    const input = { a: 1, user: { plan: 'pro', address: { city: 'Paris' } }, empty: {} };
    const out = normalizeProperties(input, 'properties', limits);
    expect(out).toEqual({ a: 1, 'user.plan': 'pro', 'user.address.city': 'Paris' });
    expect(out).not.toBe(input);
    expect(input.user).toEqual({ plan: 'pro', address: { city: 'Paris' } });
  });

  it('stores arrays as their JSON text', () => {
    expect(normalizeProperties({ tags: ['a', 1, { b: 2 }] }, 'properties', limits)).toEqual({
      tags: '["a",1,{"b":2}]',
    });
  });

  it('flattens up to maxDepth key segments and rejects deeper nesting naming the key', () => {
    const ok = { a: { b: { c: { d: { e: 1 } } } } };
    expect(normalizeProperties(ok, 'properties', limits)).toEqual({ 'a.b.c.d.e': 1 });
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    expect(normalizeProperties(deep, 'properties', limits)).toBe(
      'properties.a.b.c.d.e: nested deeper than 5 levels',
    );
  });

  it('rejects more than maxProperties keys, before and after flattening', () => {
    const small = { ...limits, maxProperties: 3 };
    expect(normalizeProperties({ a: 1, b: 2, c: 3 }, 'properties', small)).toEqual({ a: 1, b: 2, c: 3 });
    expect(normalizeProperties({ a: 1, b: 2, c: 3, d: 4 }, 'properties', small)).toBe(
      'properties: more than 3 properties',
    );
    expect(normalizeProperties({ a: 1, n: { b: 2, c: 3, d: 4 } }, 'properties', small)).toBe(
      'properties: more than 3 properties',
    );
  });

  it('rejects string values longer than maxValueLength naming the key', () => {
    const long = 'x'.repeat(limits.maxValueLength + 1);
    expect(
      normalizeProperties({ ok: 'x'.repeat(limits.maxValueLength) }, 'properties', limits),
    ).not.toBeTypeOf('string');
    expect(normalizeProperties({ text: long }, 'properties', limits)).toBe(
      'properties.text: string longer than 8192 characters',
    );
    expect(normalizeProperties({ n: { text: long } }, '$set', limits)).toBe(
      '$set.n.text: string longer than 8192 characters',
    );
    expect(normalizeProperties({ list: [long] }, 'properties', limits)).toBe(
      'properties.list: string longer than 8192 characters',
    );
  });

  it('rejects keys longer than maxNameLength, also once flattened', () => {
    const key = 'k'.repeat(201);
    expect(normalizeProperties({ [key]: 1 }, 'properties', limits)).toBe(
      `properties.${'k'.repeat(40)}…: key longer than 200 characters`,
    );
    expect(normalizeProperties({ ['a'.repeat(150)]: { ['b'.repeat(60)]: 1 } }, 'properties', limits)).toMatch(
      /^properties\.a{40}…: key longer than 200 characters$/,
    );
  });

  it('rejects empty keys and __proto__', () => {
    expect(normalizeProperties({ '': 1 }, 'properties', limits)).toBe('properties: keys must not be empty');
    expect(normalizeProperties({ a: { '': 1 } }, 'properties', limits)).toBe(
      'properties: keys must not be empty',
    );
    const proto = JSON.parse('{"__proto__": "x"}');
    expect(normalizeProperties(proto, 'properties', limits)).toBe('properties.__proto__: key is not allowed');
  });

  it('rejects non-finite numbers and values JSON cannot carry', () => {
    expect(normalizeProperties({ n: Number.NaN }, 'properties', limits)).toBe(
      'properties.n: must be a finite number',
    );
    expect(normalizeProperties({ o: { n: Number.POSITIVE_INFINITY } }, 'properties', limits)).toBe(
      'properties.o.n: must be a finite number',
    );
    for (const value of [new Date(0), new Uint8Array(2), 10n, undefined, new Map()]) {
      expect(normalizeProperties({ v: value }, 'properties', limits)).toBe(
        'properties.v: must be a string, number, boolean, null, object or array',
      );
    }
    expect(normalizeProperties({ v: [10n] }, 'properties', limits)).toBe(
      'properties.v: array cannot be converted to JSON',
    );
  });

  it('names the field it validates', () => {
    expect(normalizeProperties({ n: Number.NaN }, '$set_once', limits)).toBe(
      '$set_once.n: must be a finite number',
    );
  });
});

describe('isPlainObject', () => {
  it('accepts object literals and null-prototype objects only', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const value of [null, [], new Date(), new Uint8Array(1), new Map(), 'x', 1]) {
      expect(isPlainObject(value)).toBe(false);
    }
  });
});
