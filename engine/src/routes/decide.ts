import { randomBytes } from 'node:crypto';
import { invalid, shardOf } from '@weft/core';
import {
  assignVariant,
  parseCondition,
  parseDuration,
  parsePropCondition,
  parseVariants,
  type Variant,
} from '@weft/segments';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';
import type { CapAnswer, DecideAnswer, SegmentRequest, ShardCheck } from '../segments/protocol.js';
import { askShards } from '../segments/shard-calls.js';
import type { SegmentStore } from '../segments/store.js';

const bodySchema = {
  type: 'object',
  required: ['distinct_id', 'checks'],
  additionalProperties: false,
  properties: {
    distinct_id: { type: 'string', minLength: 1, maxLength: 200 },
    checks: { type: 'object', minProperties: 1, maxProperties: 50 },
  },
} as const;

interface DecideBody {
  distinct_id: string;
  checks: Record<string, unknown>;
}

type Result = boolean | string | CapAnswer;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Compiles the checks of one call: state-free A/B answers right here; the rest become shard
 * checks. Problems are 400s naming `checks.<name>…`.
 */
interface Compiled {
  /** Names this compiled set for the shards (unique in this process's life, and across processes). */
  set: string;
  shard: ShardCheck[];
  ab: Array<{ name: string; key: string; variants: Variant[] }>;
}

function compileChecks(
  checks: Record<string, unknown>,
  store: SegmentStore,
  project: string,
): Omit<Compiled, 'set'> {
  const shard: ShardCheck[] = [];
  const ab: Compiled['ab'] = [];
  for (const [name, check] of Object.entries(checks)) {
    const path = `checks.${name}`;
    if (!isObject(check)) throw invalid(path, 'expected a check object');
    if ('segment' in check) {
      if (typeof check.segment !== 'string' || !store.get(project, check.segment)) {
        throw invalid(`${path}.segment`, `no segment ${JSON.stringify(check.segment)}`);
      }
      shard.push({ name, kind: 'segment', id: check.segment });
    } else if ('did' in check || 'not_did' in check) {
      shard.push({ name, kind: 'plan', plan: store.compile(project, parseCondition(check, {}, path)) });
    } else if ('prop' in check) {
      shard.push({ name, kind: 'prop', cond: parsePropCondition(check, path) });
    } else if ('ab' in check) {
      const test = check.ab;
      if (!isObject(test) || typeof test.key !== 'string' || test.key === '' || test.key.length > 200) {
        throw invalid(`${path}.ab.key`, 'expected an experiment key (1-200 characters)');
      }
      ab.push({ name, key: test.key, variants: parseVariants(test.variants, `${path}.ab.variants`) });
    } else if ('cap' in check) {
      const cap = check.cap;
      if (!isObject(cap)) throw invalid(`${path}.cap`, 'expected {key, max, per}');
      if (typeof cap.key !== 'string' || cap.key === '' || cap.key.length > 200) {
        throw invalid(`${path}.cap.key`, 'expected a cap key (1-200 characters)');
      }
      if (typeof cap.max !== 'number' || !Number.isInteger(cap.max) || cap.max < 0 || cap.max > 1_000_000) {
        throw invalid(`${path}.cap.max`, 'expected a whole number from 0 to 1000000');
      }
      const perMs = typeof cap.per === 'string' ? parseDuration(cap.per) : undefined;
      if (!perMs) throw invalid(`${path}.cap.per`, 'expected a duration above zero (e.g. 1h, 1d, 7d)');
      shard.push({ name, kind: 'cap', key: cap.key, max: cap.max, perMs });
    } else {
      throw invalid(path, 'expected one of segment, did, not_did, prop, ab, cap');
    }
  }
  return { shard, ab };
}

const CACHE_SIZE = 1000;
/** Set names start with this process's own prefix, so peers' shards never confuse two processes' sets. */
const SET_PREFIX = randomBytes(6).toString('base64url');
let setCount = 0;

/**
 * Compiled checks by their JSON text and project: callers send the same few check sets over
 * and over, and validating and compiling them costs more than answering. Segment ids are
 * checked again on every call (a segment may have been deleted since).
 */
class CheckCache {
  private readonly entries = new Map<string, Compiled>();

  get(checks: Record<string, unknown>, store: SegmentStore, project: string): Compiled {
    // Plans expand defined events: a changed definition compiles anew.
    const key = `${project}\n${store.compileRevision}\n${JSON.stringify(checks)}`;
    let compiled = this.entries.get(key);
    if (!compiled) {
      compiled = { ...compileChecks(checks, store, project), set: `${SET_PREFIX}.${setCount++}` };
      if (this.entries.size >= CACHE_SIZE) this.entries.clear();
      this.entries.set(key, compiled);
    }
    for (const c of compiled.shard) {
      if (c.kind === 'segment' && !store.get(project, c.id)) {
        this.entries.delete(key);
        throw invalid(`checks.${c.name}.segment`, `no segment ${JSON.stringify(c.id)}`);
      }
    }
    return compiled;
  }
}

/**
 * Several checks for one user in one call, answered from the shards' memory. The user's shard
 * is its hash; an id an identify moved elsewhere is looked for on the other shards before the
 * hash shard answers for an unknown user (so a cap is consumed exactly once).
 */
async function ask(
  engine: Engine,
  project: string,
  distinctId: string,
  compiled: Compiled,
): Promise<DecideAnswer> {
  const home = shardOf(project, distinctId, engine.shardCount);
  const first = await askShard(engine, project, distinctId, compiled, home, true);
  if (first.known) return first;
  for (let s = 0; s < engine.shardCount; s++) {
    if (s === home) continue;
    const other = await askShard(engine, project, distinctId, compiled, s, true);
    if (other.known) return other;
  }
  return askShard(engine, project, distinctId, compiled, home, false);
}

/** One shard's answer: by set name alone, and with the checks themselves when it lacks the set. */
async function askShard(
  engine: Engine,
  project: string,
  distinctId: string,
  compiled: Compiled,
  shard: number,
  ifKnown: boolean,
): Promise<DecideAnswer> {
  const req: SegmentRequest = { op: 'decide', project, distinctId, set: compiled.set, ifKnown };
  const [answer] = await askShards<DecideAnswer>(engine, req, shard);
  if (!answer!.unknownSet) return answer!;
  const [again] = await askShards<DecideAnswer>(engine, { ...req, checks: compiled.shard }, shard);
  return again!;
}

export function registerDecideRoute(app: FastifyInstance, engine: Engine, store: SegmentStore): void {
  const cache = new CheckCache();
  app.post<{ Body: DecideBody }>('/v1/decide', { schema: { body: bodySchema } }, async (request) => {
    const project = request.project;
    const distinctId = request.body.distinct_id;
    const compiled = cache.get(request.body.checks, store, project);
    const answer: Record<string, Result> =
      compiled.shard.length === 0 ? {} : (await ask(engine, project, distinctId, compiled)).results;
    for (const a of compiled.ab) answer[a.name] = assignVariant(a.key, distinctId, a.variants);
    const results: Record<string, Result> = {};
    for (const name in request.body.checks) results[name] = answer[name]!;
    return { results };
  });
}
