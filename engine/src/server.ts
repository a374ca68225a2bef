import { join } from 'node:path';
import { loadConfig, StaticKeys, type WeftConfig } from '@weft/core';
import { installErrorHandler, registerIngestRoutes } from '@weft/ingest';
import Fastify, { type FastifyInstance } from 'fastify';
import { DefinitionStore } from './definitions/store.js';
import { Engine } from './engine.js';
import { loadProjectKeys } from './keys.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerEventsQuery } from './routes/query-events.js';
import { registerSdkAssets } from './routes/sdk-assets.js';
import { registerSecretRoutes } from './routes/secret-scope.js';
import { registerUserRoutes } from './routes/users.js';

export interface RunningWeft {
  url: string;
  writeKey: string;
  secretKey: string;
  config: WeftConfig;
  app: FastifyInstance;
  engine: Engine;
  definitions: DefinitionStore;
  close(): Promise<void>;
}

export type WeftOptions = Partial<Omit<WeftConfig, 'limits'>> & { limits?: Partial<WeftConfig['limits']> };

/** Starts ingest, engine and query API in this process on the configured (or given) settings. */
export async function startWeft(options: WeftOptions = {}, env = process.env): Promise<RunningWeft> {
  const base = loadConfig(env);
  const config: WeftConfig = { ...base, ...options, limits: { ...base.limits, ...options.limits } };
  const projects = loadProjectKeys(config);
  const keys = new StaticKeys(projects);
  const engine = await Engine.start(config, projects);
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.limits.maxBodyBytes,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, allowUnionTypes: true },
    },
  });
  installErrorHandler(app);
  await registerIngestRoutes(app, {
    keys,
    limits: config.limits,
    submitBatch: (raw) => engine.submitBatch(raw),
    publishEvents: (project, events) => engine.publishEvents(project, events),
  });
  const definitions = new DefinitionStore(join(config.dataDir, 'definitions.json'));
  await registerSecretRoutes(app, keys, (scope) => {
    registerEventsQuery(scope, engine, definitions);
    registerDefinitionRoutes(scope, definitions);
    registerUserRoutes(scope, engine);
  });
  registerHealthRoutes(app, engine);
  registerSdkAssets(app);
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await engine.close();
    throw err;
  }
  const url = address.replace('[::1]', 'localhost');
  return {
    url,
    writeKey: projects[0]!.writeKey,
    secretKey: projects[0]!.secretKey,
    config,
    app,
    engine,
    definitions,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}
