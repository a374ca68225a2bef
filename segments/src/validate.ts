import { isTimeZone, type PropValue, parseTime, WeftError } from '@weft/core';
import { parseCron } from './cron.js';
import {
  type Condition,
  type CountCondition,
  type CountOp,
  type DefinedEventLookup,
  PROP_OPS,
  type PropCondition,
  type PropOp,
  type PropType,
  type RuleLookup,
  type SegmentLookup,
  type SegmentSpec,
  segmentReferences,
  type Window,
} from './definition.js';
import { parseDuration } from './duration.js';

/**
 * What the project knows about, for stricter validation; each absent part is not checked.
 * `properties` are profile properties; `eventProperties` are, per event, the properties its
 * events carry, which `did.where` filters may name (an event missing from it has none).
 */
export interface Catalog {
  events?: ReadonlySet<string>;
  properties?: ReadonlyMap<string, PropType>;
  eventProperties?: ReadonlyMap<string, ReadonlyMap<string, PropType>>;
}

export interface ValidateOptions {
  catalog?: Catalog;
  /** Resolves `{segment: id}` references; without it they are not checked. */
  lookup?: SegmentLookup;
  /** Id of the segment being replaced, so that a reference back to it is a cycle. */
  self?: string;
  /**
   * Defined events: `did` may name one though no event has its name, and its `where` is
   * checked against the properties of the event it stands for.
   */
  events?: DefinedEventLookup;
  /** Rule tags: a tag leaf reads the rule's segment, so reading it back is a cycle too. */
  rules?: RuleLookup;
}

type CheckerOptions = Pick<ValidateOptions, 'catalog' | 'events' | 'rules'>;

const NO_PROPERTIES: ReadonlyMap<string, PropType> = new Map();

/** One problem, at the path of the node or field that has it. */
export interface Issue {
  path: string;
  reason: string;
}

export const LIMITS = {
  /** Deepest nesting of and/or/not. */
  depth: 32,
  /** Most conditions (nodes) in one definition. */
  nodes: 1000,
  /** Most values in an `in` list. */
  list: 10_000,
  /** Most filters in a `did.where`. */
  where: 100,
  /** Longest event, property, tag or segment name and segment id. */
  name: 200,
  /** Longest string operand. */
  text: 8192,
  /** Longest rolling window, in days. */
  windowDays: 3660,
  /** Largest count operand. */
  count: 1_000_000_000,
} as const;

const MAX_ISSUES = 50;

const KINDS = ['and', 'or', 'not', 'prop', 'tag', 'segment', 'did', 'not_did'] as const;
type Kind = (typeof KINDS)[number];

const FIELDS: Readonly<Record<Kind, readonly string[]>> = {
  and: ['and'],
  or: ['or'],
  not: ['not'],
  prop: ['prop', 'op', 'value'],
  tag: ['tag', 'value'],
  segment: ['segment'],
  did: ['did', 'where', 'count', 'within'],
  not_did: ['not_did', 'where', 'count', 'within'],
};

const COUNT_OPS: readonly CountOp[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'];

type Json = Record<string, unknown>;

/** The operator and operands of a PropCondition, per variant. */
type Operands<C = PropCondition> = C extends unknown ? Omit<C, 'prop'> : never;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is PropValue {
  return (
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'string' && v.length <= LIMITS.text) ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(v: PropValue): string {
  return v === null ? 'null' : typeof v;
}

/** Collects every problem of one input, each at its path, then throws them as one WeftError. */
class Checker {
  readonly issues: Issue[] = [];
  readonly refs: Array<{ path: string; id: string }> = [];
  private nodes = 0;

  constructor(private readonly options: CheckerOptions) {}

  fail(path: string, reason: string): undefined {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ path, reason });
    return undefined;
  }

  /** A WeftError thrown by a helper that names its own path (parseCron). */
  absorb(err: unknown): undefined {
    if (!(err instanceof WeftError)) throw err;
    const field = (err.details as { field: string }).field;
    return this.fail(field, err.message.slice(field.length + 2));
  }

  throwIfAny(): void {
    const first = this.issues[0];
    if (!first) return;
    const more = this.issues.length - 1;
    const suffix = more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : '';
    throw new WeftError('invalid', `${first.path}: ${first.reason}${suffix}`, {
      field: first.path,
      issues: this.issues,
    });
  }

  name(v: unknown, path: string, what: string): string | undefined {
    if (typeof v !== 'string' || v.length === 0)
      return this.fail(path, `expected ${what} (a non-empty string)`);
    if (v.length > LIMITS.name) return this.fail(path, `longer than ${LIMITS.name} characters`);
    return v;
  }

  private fields(obj: Json, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key))
        this.fail(`${path}.${key}`, `unknown field (expected ${allowed.join(', ')})`);
    }
  }

  condition(input: unknown, path: string, depth: number): Condition | undefined {
    if (++this.nodes === LIMITS.nodes + 1) {
      return this.fail(path, `the definition has more than ${LIMITS.nodes} conditions`);
    }
    if (this.nodes > LIMITS.nodes) return undefined;
    if (depth > LIMITS.depth) return this.fail(path, `nested more than ${LIMITS.depth} levels deep`);
    if (!isObject(input)) return this.fail(path, `expected a condition object (${KINDS.join(', ')})`);
    const kinds = KINDS.filter((k) => k in input);
    if (kinds.length === 0) return this.fail(path, `expected one of ${KINDS.join(', ')}`);
    if (kinds.length > 1) {
      return this.fail(path, `has both "${kinds[0]}" and "${kinds[1]}"; a condition is exactly one kind`);
    }
    const kind = kinds[0]!;
    this.fields(input, path, FIELDS[kind]);
    switch (kind) {
      case 'and':
      case 'or': {
        const list = input[kind];
        if (!Array.isArray(list) || list.length === 0) {
          return this.fail(`${path}.${kind}`, 'expected a non-empty list of conditions');
        }
        const children = list.map((c, i) => this.condition(c, `${path}.${kind}[${i}]`, depth + 1));
        if (!children.every((c) => c !== undefined)) return undefined;
        return kind === 'and' ? { and: children } : { or: children };
      }
      case 'not': {
        const child = this.condition(input.not, `${path}.not`, depth + 1);
        return child && { not: child };
      }
      case 'prop':
        return this.prop(input, path, this.options.catalog?.properties);
      case 'tag': {
        const tag = this.name(input.tag, `${path}.tag`, 'a tag name');
        const value = input.value;
        if (
          value !== undefined &&
          (typeof value !== 'string' || value === '' || value.length > LIMITS.text)
        ) {
          return this.fail(`${path}.value`, 'a tag value is a non-empty string');
        }
        if (tag === undefined) return undefined;
        const rule = this.options.rules?.(tag);
        if (rule !== undefined) this.refs.push({ path: `${path}.tag`, id: rule });
        return value === undefined ? { tag } : { tag, value };
      }
      case 'segment': {
        const id = this.name(input.segment, `${path}.segment`, 'a segment id');
        if (id !== undefined) this.refs.push({ path: `${path}.segment`, id });
        return id === undefined ? undefined : { segment: id };
      }
      case 'did':
      case 'not_did':
        return this.behaviour(input, path, kind);
    }
  }

  /**
   * A `{prop, op?, value?}` filter; `types` are the catalog's types for its namespace, and
   * `owner` says whose properties they are when an unknown one is reported.
   */
  prop(
    input: Json,
    path: string,
    types: ReadonlyMap<string, PropType> | undefined,
    owner = '',
  ): PropCondition | undefined {
    const prop = this.name(input.prop, `${path}.prop`, 'a property name');
    const rawOp = input.op ?? 'eq';
    if (!PROP_OPS.includes(rawOp as PropOp)) {
      return this.fail(`${path}.op`, `unknown operator ${show(rawOp)} (expected ${PROP_OPS.join(', ')})`);
    }
    const op = rawOp as PropOp;
    const cond = this.operands(op, input.value, `${path}.value`);
    if (prop === undefined || cond === undefined) return undefined;
    const typed = { prop, ...cond } as PropCondition;
    if (types) {
      const type = types.get(prop);
      if (type === undefined) return this.fail(`${path}.prop`, `unknown property "${prop}"${owner}`);
      if (!this.fitsType(typed, type, path)) return undefined;
    }
    return typed;
  }

  private operands(op: PropOp, value: unknown, path: string): Operands | undefined {
    switch (op) {
      case 'eq':
      case 'neq':
        if (value === undefined) return this.fail(path, `${op} needs a value`);
        if (!isScalar(value)) return this.fail(path, `${op} needs a string, number, boolean or null`);
        return { op, value };
      case 'in': {
        if (!Array.isArray(value) || value.length === 0) return this.fail(path, 'in needs a non-empty list');
        if (value.length > LIMITS.list) return this.fail(path, `in takes at most ${LIMITS.list} values`);
        const bad = value.findIndex((v) => !isScalar(v));
        if (bad >= 0) return this.fail(`${path}[${bad}]`, 'expected a string, number, boolean or null');
        return { op, value: [...value] as PropValue[] };
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof value !== 'number' || !Number.isFinite(value))
          return this.fail(path, `${op} needs a number`);
        return { op, value };
      case 'between': {
        const pair = Array.isArray(value) && value.length === 2 ? value : undefined;
        if (!pair?.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          return this.fail(path, 'between needs [low, high] numbers');
        }
        const [lo, hi] = pair as [number, number];
        if (lo > hi) return this.fail(path, `between: low ${lo} is above high ${hi}`);
        return { op, value: [lo, hi] };
      }
      case 'contains':
        if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.text) {
          return this.fail(path, 'contains needs a non-empty string');
        }
        return { op, value };
      case 'set':
      case 'notset':
        if (value !== undefined) return this.fail(path, `${op} takes no value`);
        return { op };
    }
  }

  /** Whether operands suit the catalog type of the property (null compares with any type). */
  private fitsType(cond: PropCondition, type: PropType, path: string): boolean {
    const wrong = (v: PropValue, at: string): boolean => {
      if (v === null || typeof v === type) return false;
      this.fail(at, `${show(v)} is a ${typeName(v)}, but "${cond.prop}" is a ${type} property`);
      return true;
    };
    switch (cond.op) {
      case 'eq':
      case 'neq':
        return !wrong(cond.value, `${path}.value`);
      case 'in':
        return cond.value.map((v, i) => wrong(v, `${path}.value[${i}]`)).every((w) => !w);
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
      case 'between':
        if (type === 'number') return true;
        this.fail(`${path}.op`, `${cond.op} compares numbers, but "${cond.prop}" is a ${type} property`);
        return false;
      case 'contains':
        if (type === 'string') return true;
        this.fail(`${path}.op`, `contains needs a string property, but "${cond.prop}" is a ${type} property`);
        return false;
      case 'set':
      case 'notset':
        return true;
    }
  }

  private behaviour(input: Json, path: string, kind: 'did' | 'not_did'): Condition | undefined {
    let ok = true;
    const event = this.name(input[kind], `${path}.${kind}`, 'an event name');
    const defined = event === undefined ? undefined : this.options.events?.(event);
    if (
      event !== undefined &&
      !defined &&
      this.options.catalog?.events &&
      !this.options.catalog.events.has(event)
    ) {
      ok = false;
      this.fail(`${path}.${kind}`, `unknown event "${event}"`);
    }
    // Filters apply to the events counted: those of the event a defined name stands for.
    const counted = defined?.event ?? event;
    const known = this.options.catalog?.eventProperties;
    const types = known && counted !== undefined ? (known.get(counted) ?? NO_PROPERTIES) : undefined;
    const owner = defined ? ` of event "${counted}" (defined event "${event}")` : ` of event "${counted}"`;
    let where: PropCondition[] | undefined;
    if (input.where !== undefined) {
      const list = input.where;
      if (!Array.isArray(list) || list.length > LIMITS.where) {
        ok = false;
        this.fail(`${path}.where`, `expected a list of at most ${LIMITS.where} filters`);
      } else {
        const parsed = list.map((w, i) => {
          const at = `${path}.where[${i}]`;
          if (!isObject(w)) return this.fail(at, 'expected a filter {prop, op, value}');
          this.fields(w, at, FIELDS.prop);
          return this.prop(w, at, types, owner);
        });
        if (parsed.every((w) => w !== undefined)) where = parsed;
        else ok = false;
      }
    }
    const count = input.count === undefined ? undefined : this.count(input.count, `${path}.count`);
    const within = input.within === undefined ? undefined : this.window(input.within, `${path}.within`);
    if (event === undefined || !ok) return undefined;
    if ((input.count !== undefined && !count) || (input.within !== undefined && !within)) return undefined;
    const fields = {
      ...(where && where.length > 0 ? { where } : {}),
      ...(count ? { count } : {}),
      ...(within ? { within } : {}),
    };
    return kind === 'did' ? { did: event, ...fields } : { not_did: event, ...fields };
  }

  private count(input: unknown, path: string): CountCondition | undefined {
    if (!isObject(input)) return this.fail(path, 'expected {op, value}');
    this.fields(input, path, ['op', 'value']);
    const op = input.op as CountOp;
    if (!COUNT_OPS.includes(op)) {
      return this.fail(
        `${path}.op`,
        `unknown count operator ${show(input.op)} (expected ${COUNT_OPS.join(', ')})`,
      );
    }
    const isCount = (v: unknown): v is number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= LIMITS.count;
    const value = input.value;
    if (op === 'between') {
      if (!Array.isArray(value) || value.length !== 2 || !value.every(isCount)) {
        return this.fail(`${path}.value`, 'between needs [low, high] whole numbers >= 0');
      }
      const [lo, hi] = value as [number, number];
      if (lo > hi) return this.fail(`${path}.value`, `between: low ${lo} is above high ${hi}`);
      return { op, value: [lo, hi] };
    }
    if (!isCount(value)) return this.fail(`${path}.value`, `${op} needs a whole number >= 0`);
    if (op === 'lt' && value === 0) return this.fail(`${path}.value`, 'no count is below 0');
    return { op, value };
  }

  private window(input: unknown, path: string): Window | undefined {
    if (!isObject(input)) return this.fail(path, 'expected {last} or {from, to}');
    if ('last' in input) {
      this.fields(input, path, ['last']);
      const last = input.last;
      const ms = typeof last === 'string' ? parseDuration(last) : undefined;
      if (ms === undefined)
        return this.fail(`${path}.last`, `${show(last)} is not a duration (e.g. 30m, 12h, 7d, 2w)`);
      if (ms === 0) return this.fail(`${path}.last`, 'must be longer than zero');
      if (ms > LIMITS.windowDays * 86_400_000)
        return this.fail(`${path}.last`, `longer than ${LIMITS.windowDays}d`);
      return { last: last as string };
    }
    this.fields(input, path, ['from', 'to']);
    const time = (v: unknown, at: string): number | undefined => {
      if (v === undefined) return this.fail(at, 'missing (a window is {last} or {from, to})');
      if (typeof v !== 'string' && typeof v !== 'number') return this.fail(at, `${show(v)} is not a time`);
      return parseTime(v) ?? this.fail(at, `${show(v)} is not a time (epoch s/ms, YYYY-MM-DD or ISO)`);
    };
    const from = time(input.from, `${path}.from`);
    const to = time(input.to, `${path}.to`);
    if (from === undefined || to === undefined) return undefined;
    if (to <= from) return this.fail(`${path}.to`, 'must be after from');
    return { from: input.from as string | number, to: input.to as string | number };
  }
}

/**
 * Follows references through stored segments: an unknown id, or a chain that comes back to
 * `self` or to any segment already on it, is an issue at the referring node.
 */
function checkReferences(
  checker: Checker,
  lookup: SegmentLookup,
  self: string | undefined,
  rules: RuleLookup | undefined,
): void {
  const sound = new Set<string>();
  const walk = (id: string, chain: readonly string[]): string | undefined => {
    if (chain.includes(id)) return `cycle: ${[...chain, id].join(' -> ')}`;
    if (sound.has(id)) return undefined;
    const segment = lookup(id);
    if (!segment) {
      const referrer = chain.length > (self === undefined ? 0 : 1) ? chain[chain.length - 1] : undefined;
      return referrer === undefined
        ? `unknown segment "${id}"`
        : `segment "${referrer}" refers to unknown segment "${id}"`;
    }
    if (segment.definition) {
      for (const ref of segmentReferences(segment.definition, rules)) {
        const problem = walk(ref, [...chain, id]);
        if (problem) return problem;
      }
    }
    sound.add(id);
    return undefined;
  };
  for (const { path, id } of checker.refs) {
    const problem = walk(id, self === undefined ? [] : [self]);
    if (problem) checker.fail(path, problem);
  }
}

/**
 * Validates an untrusted condition tree and returns it typed and normalized (`op` filled in,
 * nothing unknown kept). Throws WeftError('invalid') whose message names the first bad node
 * by its path, e.g. `definition.and[2].did.within.last: "7x" is not a duration …`;
 * `details.issues` lists every problem found.
 */
export function parseCondition(
  input: unknown,
  options: ValidateOptions = {},
  path = 'definition',
): Condition {
  const checker = new Checker(options);
  const cond = checker.condition(input, path, 0);
  if (cond && options.lookup) checkReferences(checker, options.lookup, options.self, options.rules);
  checker.throwIfAny();
  return cond!;
}

/** Validates one `{prop, op?, value?}` comparison, e.g. a decide property check. */
export function parsePropCondition(input: unknown, path: string, catalog?: Catalog): PropCondition {
  const checker = new Checker({ catalog });
  const cond = isObject(input)
    ? checker.prop(input, path, catalog?.properties)
    : checker.fail(path, 'expected {prop, op, value}');
  checker.throwIfAny();
  return cond!;
}

const SPEC_FIELDS = ['name', 'description', 'mode', 'definition', 'schedule', 'tz'];

/**
 * Validates a segment as clients create or replace it. `mode` defaults to realtime;
 * scheduled segments need a cron `schedule` (5 fields) and take a `tz` (default UTC);
 * static ones have no definition (their members are uploaded).
 */
export function parseSegmentSpec(input: unknown, options: ValidateOptions = {}): SegmentSpec {
  const checker = new Checker(options);
  if (!isObject(input)) {
    checker.fail('body', 'expected a segment {name, mode, definition, schedule?, tz?}');
    checker.throwIfAny();
  }
  const body = input as Json;
  for (const key of Object.keys(body)) {
    if (!SPEC_FIELDS.includes(key)) checker.fail(key, `unknown field (expected ${SPEC_FIELDS.join(', ')})`);
  }
  const name = checker.name(typeof body.name === 'string' ? body.name.trim() : body.name, 'name', 'a name');
  const description = body.description;
  if (description !== undefined && (typeof description !== 'string' || description.length > LIMITS.text)) {
    checker.fail('description', 'expected a string');
  }
  const mode = body.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'scheduled' && mode !== 'static') {
    checker.fail('mode', `unknown mode ${show(mode)} (expected realtime, scheduled or static)`);
  }
  if (mode !== 'scheduled') {
    if (body.schedule !== undefined) checker.fail('schedule', 'only scheduled segments have a schedule');
    if (body.tz !== undefined) checker.fail('tz', 'only scheduled segments have a time zone');
  } else {
    if (typeof body.schedule !== 'string')
      checker.fail('schedule', 'expected a cron expression, e.g. "30 5 * * *"');
    else {
      try {
        parseCron(body.schedule, 'schedule');
      } catch (err) {
        checker.absorb(err);
      }
    }
    if (body.tz !== undefined && (typeof body.tz !== 'string' || !isTimeZone(body.tz))) {
      checker.fail('tz', `unknown time zone ${show(body.tz)}`);
    }
  }
  let definition: Condition | undefined;
  if (mode === 'static') {
    if (body.definition !== undefined) {
      checker.fail('definition', 'a static segment is an uploaded list and has no definition');
    }
  } else if (body.definition === undefined) {
    checker.fail('definition', `a ${String(mode)} segment needs a definition`);
  } else {
    definition = checker.condition(body.definition, 'definition', 0);
    if (definition && options.lookup) checkReferences(checker, options.lookup, options.self, options.rules);
  }
  checker.throwIfAny();
  const head =
    description === undefined ? { name: name! } : { name: name!, description: description as string };
  if (mode === 'static') return { ...head, mode };
  if (mode === 'realtime') return { ...head, mode, definition: definition! };
  return {
    ...head,
    mode: 'scheduled',
    definition: definition!,
    schedule: body.schedule as string,
    tz: (body.tz as string | undefined) ?? 'UTC',
  };
}
