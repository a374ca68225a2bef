import { DEFAULT_LIMITS, type IngestLimits, StaticKeys, WeftError, type WeftEvent } from '@weft/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { processBatch } from '../src/batch/process.js';
import { installErrorHandler } from '../src/http/errors.js';
import { registerIngestRoutes } from '../src/http/routes.js';
import type { NormalizeContext } from '../src/normalize/event.js';

export const WRITE_KEY = 'wk_test';
export const SECRET_KEY = 'sk_test';
export const keys = new StaticKeys([
  { project: 'default', writeKey: WRITE_KEY, secretKey: SECRET_KEY },
  { project: 'other', writeKey: 'wk_other', secretKey: 'sk_other' },
]);
export const limits: IngestLimits = { ...DEFAULT_LIMITS };

/** A fixed server time: 2024-06-01T12:00:00Z. */
export const NOW = Date.UTC(2024, 5, 1, 12);

export function context(overrides: Partial<NormalizeContext> = {}): NormalizeContext {
  return { project: 'default', receivedAt: NOW, skewMs: 0, limits, ...overrides };
}

export interface TestApp {
  app: FastifyInstance;
  /** Events published by import, per call. */
  published: WeftEvent[][];
  /** Events kept by the batch route's processBatch double. */
  submitted: WeftEvent[];
}

/**
 * The routes over test doubles of the engine: submitBatch runs processBatch in-line (the engine
 * does it in a worker), publishEvents records what it is given.
 */
export async function testApp(
  appLimits: IngestLimits = limits,
  moreRoutes: (app: FastifyInstance) => void = () => {},
): Promise<TestApp> {
  const app = Fastify();
  const published: WeftEvent[][] = [];
  const submitted: WeftEvent[] = [];
  installErrorHandler(app);
  registerIngestRoutes(app, {
    keys,
    limits: appLimits,
    submitBatch: async (raw) => {
      const processed = processBatch(raw, keys, appLimits);
      submitted.push(...processed.events);
      return processed.result;
    },
    publishEvents: async (_project, events) => {
      published.push(events);
    },
  });
  moreRoutes(app);
  await app.ready();
  return { app, published, submitted };
}

/** The WeftError `fn` throws; fails the test when it returns or throws anything else. */
export function weftError(fn: () => unknown): WeftError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WeftError) return err;
    throw err;
  }
  throw new Error('expected a WeftError');
}
