import type { IngestLimits, Properties } from '@weft/core';

/** True for `{}`-style objects; excludes arrays, Maps, Dates, typed arrays and other decoded exotica. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates a properties-like object (`properties`, `$set`, `$set_once`; `field` names it in
 * reasons). Returns the input itself when it is already flat and valid (the common case: no
 * copy), a flattened copy when it nests objects or arrays, or a reason naming the key.
 */
export function normalizeProperties(
  input: Record<string, unknown>,
  field: string,
  limits: IngestLimits,
): Properties | string {
  let count = 0;
  for (const key in input) {
    if (key.length === 0 || key.length > limits.maxNameLength || key === '__proto__') {
      return badKey(field, key, limits);
    }
    const value = input[key];
    if (typeof value === 'string') {
      if (value.length > limits.maxValueLength) return valueTooLong(field, key, limits);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${field}.${key}: must be a finite number`;
    } else if (typeof value !== 'boolean' && value !== null) {
      return flattenCopy(input, field, limits);
    }
    count++;
  }
  if (count > limits.maxProperties) return tooMany(field, limits);
  return input as Properties;
}

function flattenCopy(
  input: Record<string, unknown>,
  field: string,
  limits: IngestLimits,
): Properties | string {
  const out: Properties = {};
  const problem = flattenInto(out, input, '', 1, field, limits);
  if (problem !== undefined) return problem;
  return Object.keys(out).length > limits.maxProperties ? tooMany(field, limits) : out;
}

/** Copies `src` into `out` with dotted keys; `depth` is the number of key segments of src's children. */
function flattenInto(
  out: Properties,
  src: Record<string, unknown>,
  prefix: string,
  depth: number,
  field: string,
  limits: IngestLimits,
): string | undefined {
  for (const name in src) {
    const key = prefix === '' ? name : prefix + '.' + name;
    if (name.length === 0 || key.length > limits.maxNameLength || key === '__proto__') {
      return badKey(field, key, limits);
    }
    const value = src[name];
    if (typeof value === 'string') {
      if (value.length > limits.maxValueLength) return valueTooLong(field, key, limits);
      out[key] = value;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${field}.${key}: must be a finite number`;
      out[key] = value;
    } else if (typeof value === 'boolean' || value === null) {
      out[key] = value;
    } else if (Array.isArray(value)) {
      const json = arrayJson(value);
      if (json === undefined) return `${field}.${key}: array cannot be converted to JSON`;
      if (json.length > limits.maxValueLength) return valueTooLong(field, key, limits);
      out[key] = json;
    } else if (isPlainObject(value)) {
      if (depth >= limits.maxDepth) return `${field}.${key}: nested deeper than ${limits.maxDepth} levels`;
      const problem = flattenInto(out, value, key, depth + 1, field, limits);
      if (problem !== undefined) return problem;
    } else {
      return `${field}.${key}: must be a string, number, boolean, null, object or array`;
    }
  }
  return undefined;
}

/** Arrays are stored as their JSON text; decoded msgpack may hold values JSON cannot express. */
function arrayJson(value: unknown[]): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function badKey(field: string, key: string, limits: IngestLimits): string {
  if (key.length > limits.maxNameLength) {
    return `${field}.${key.slice(0, 40)}…: key longer than ${limits.maxNameLength} characters`;
  }
  if (key === '__proto__') return `${field}.__proto__: key is not allowed`;
  return `${field}: keys must not be empty`;
}

function valueTooLong(field: string, key: string, limits: IngestLimits): string {
  return `${field}.${key}: string longer than ${limits.maxValueLength} characters`;
}

function tooMany(field: string, limits: IngestLimits): string {
  return `${field}: more than ${limits.maxProperties} properties`;
}
