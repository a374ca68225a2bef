import { type Properties, type PropValue, prng } from '@weft/core';
import type { Condition, CountCondition, PropCondition, Window } from '../../src/definition.js';
import { type Dataset, emptyDataset } from './data.js';

/** A seeded generator, so a failing case can be replayed. */
export const rng = prng;

export const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const PLANS = ['free', 'pro', 'team'];
const CITIES = ['Paris', 'Berlin', 'Lyon', 'Bern'];
const EVENTS = ['view', 'cart', 'purchase'];
const CATEGORIES = ['books', 'toys', 'tools'];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/**
 * Persons with profiles (some properties absent, some of another type or null), tags with
 * and without values, and events spread over the 20 days before NOW plus a few after it.
 */
export function randomDataset(r: () => number, persons = 60): Dataset {
  const data = emptyDataset();
  let id = 0;
  for (let i = 0; i < persons; i++) {
    const person = `p${String(i).padStart(3, '0')}`;
    const profile: Properties = {};
    if (r() < 0.9) profile.plan = pick(r, PLANS);
    if (r() < 0.8) profile.age = 18 + Math.floor(r() * 50);
    if (r() < 0.2) profile.age = r() < 0.5 ? String(profile.age ?? 30) : null;
    if (r() < 0.7) profile.vip = r() < 0.4;
    if (r() < 0.6) profile.city = pick(r, CITIES);
    if (r() < 0.5) profile.score = Math.floor(r() * 20) / 2;
    if (Object.keys(profile).length > 0 && r() < 0.95) data.profiles.set(person, profile);
    if (r() < 0.4) data.tags.set(person, new Map([['gold', r() < 0.5 ? null : pick(r, ['a', 'b'])]]));
    if (r() < 0.2) {
      const tags = data.tags.get(person) ?? new Map<string, string | null>();
      tags.set('churn', null);
      data.tags.set(person, tags);
    }
    const n = Math.floor(r() * 8);
    for (let k = 0; k < n; k++) {
      const properties: Properties = { category: pick(r, CATEGORIES) };
      if (r() < 0.7) properties.price = Math.floor(r() * 100);
      if (r() < 0.1) properties.price = 'n/a';
      data.events.push({
        person,
        event: pick(r, EVENTS),
        event_id: `e${id++}`,
        time: NOW - Math.floor(r() * 20 * DAY) + (r() < 0.05 ? Math.floor(r() * DAY) : 0),
        properties,
      });
    }
  }
  data.members.set('listed', ['p001', 'p002', 'p010', 'p033', 'zz-only-listed']);
  return data;
}

function propCondition(r: () => number, profile: boolean): PropCondition {
  const prop = profile
    ? pick(r, ['plan', 'age', 'vip', 'city', 'score', 'missing'])
    : pick(r, ['category', 'price']);
  const strings = profile ? [...PLANS, ...CITIES] : CATEGORIES;
  const scalar = (): PropValue =>
    pick<() => PropValue>(r, [
      () => pick(r, strings),
      () => Math.floor(r() * 70),
      () => r() < 0.5,
      () => null,
      () => Math.floor(r() * 20) / 2,
    ])();
  const op = pick(r, [
    'eq',
    'neq',
    'in',
    'gt',
    'gte',
    'lt',
    'lte',
    'between',
    'contains',
    'set',
    'notset',
  ] as const);
  switch (op) {
    case 'eq':
    case 'neq':
      return { prop, op, value: scalar() };
    case 'in':
      return { prop, op, value: [scalar(), scalar(), scalar()] };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { prop, op, value: Math.floor(r() * 80) / 2 };
    case 'between': {
      const lo = Math.floor(r() * 60);
      return { prop, op, value: [lo, lo + Math.floor(r() * 30)] };
    }
    case 'contains':
      return { prop, op, value: pick(r, ['r', 'er', 'o', 'Par', 'x']) };
    case 'set':
    case 'notset':
      return { prop, op };
  }
}

function count(r: () => number): CountCondition | undefined {
  if (r() < 0.4) return undefined;
  const op = pick(r, ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'] as const);
  if (op === 'between') {
    const lo = Math.floor(r() * 3);
    return { op, value: [lo, lo + Math.floor(r() * 3)] };
  }
  return { op, value: op === 'lt' ? 1 + Math.floor(r() * 3) : Math.floor(r() * 4) };
}

function window(r: () => number): Window | undefined {
  const x = r();
  if (x < 0.3) return undefined;
  if (x < 0.7) return { last: pick(r, ['30m', '12h', '3d', '7d', '2w']) };
  const from = NOW - Math.floor(r() * 20) * DAY;
  return { from: new Date(from).toISOString(), to: from + Math.floor(1 + r() * 10) * DAY };
}

/** A random valid definition over the fields randomDataset fills. */
export function randomCondition(r: () => number, depth = 0): Condition {
  const x = r();
  if (depth < 3 && x < 0.3) {
    const of = Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomCondition(r, depth + 1));
    return r() < 0.5 ? { and: of } : { or: of };
  }
  if (depth < 3 && x < 0.4) return { not: randomCondition(r, depth + 1) };
  if (x < 0.6) return propCondition(r, true);
  if (x < 0.7)
    return r() < 0.5
      ? { tag: pick(r, ['gold', 'churn', 'none']) }
      : { tag: 'gold', value: pick(r, ['a', 'b']) };
  if (x < 0.72) return { segment: 'listed' };
  const event = pick(r, EVENTS);
  const fields = {
    ...(r() < 0.4 ? { where: [propCondition(r, false)] } : {}),
    ...(() => {
      const c = count(r);
      return c ? { count: c } : {};
    })(),
    ...(() => {
      const w = window(r);
      return w ? { within: w } : {};
    })(),
  };
  return r() < 0.7 ? { did: event, ...fields } : { not_did: event, ...fields };
}
