import { join } from 'node:path';
import { loadConfig, StaticKeys, type WeftConfig } from '@weft/core';
import { installErrorHandler, registerIngestRoutes } from '@weft/ingest';
import Fastify, { type FastifyInstance } from 'fastify';
import { ClickHouse } from './clickhouse/client.js';
import { migrate } from './clickhouse/migrations.js';
import { type DefinitionWriter, localDefinitions } from './control/definition-change.js';
import { SharedChanges } from './control/shared-changes.js';
import { SharedDefinitions } from './control/shared-definitions.js';
import { SharedLinks } from './control/shared-links.js';
import { SharedRuns } from './control/shared-runs.js';
import { DefinitionStore } from './definitions/store.js';
import { Engine } from './engine.js';
import { loadProjectKeys } from './keys.js';
import { registerDecideRoute } from './routes/decide.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerPeerRoute } from './routes/peer.js';
import { registerEventsQuery } from './routes/query-events.js';
import { registerFunnelQuery } from './routes/query-funnel.js';
import { registerHeatmapQuery } from './routes/query-heatmap.js';
import { registerPathsQuery } from './routes/query-paths.js';
import { registerRetentionQuery } from './routes/query-retention.js';
import { registerSdkAssets } from './routes/sdk-assets.js';
import { registerSecretRoutes } from './routes/secret-scope.js';
import { registerChangeRoutes } from './routes/segment-changes.js';
import { registerSegmentRoutes } from './routes/segments.js';
import { registerTagRoutes } from './routes/tags.js';
import { registerUserRoutes } from './routes/users.js';
import { ChangeFeed } from './segments/change-feed.js';
import { LastRuns } from './segments/last-runs.js';
import { LocalRuns, type RunRecorder } from './segments/run-records.js';
import { SegmentScheduler } from './segments/scheduler.js';
import { ownShards, syncShards } from './segments/shard-calls.js';
import { SizeHistory } from './segments/size-history.js';
import { SegmentStore } from './segments/store.js';
import { loadTagKey } from './segments/tag-events.js';

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
  // Partition state follows a data directory given in code unless placed explicitly.
  if (options.dataDir && !options.partitionDir && !env.WEFT_PARTITION_DIR) {
    config.partitionDir = join(options.dataDir, 'partitions');
  }
  const projects = loadProjectKeys(config);
  const keys = new StaticKeys(projects);
  const definitions = new DefinitionStore(join(config.dataDir, 'definitions.json'));
  // Shards keep no segment definitions: they get them before the first request.
  const segmentStore = new SegmentStore(join(config.dataDir, 'segments'), definitions);
  const stores = { segments: segmentStore, definitions };
  // Kafka mode: definitions live in a topic every process follows; each partition's shard
  // gets them when its partition is assigned here.
  const shared = config.kafkaBrokers
    ? new SharedDefinitions({ ...config, brokers: config.kafkaBrokers }, stores)
    : undefined;
  const engine = await Engine.start(
    config,
    projects,
    shared && ((partition) => shared.shardStarted(partition)),
  );
  const shards = ownShards(engine);
  // Kafka mode numbers changes by topic offset and mirrors sizes and runs from a topic: its
  // files are kept apart per topic, or an embedded-mode log's ids would pass over the
  // topic's first changes (and the mirror take those for ones it had).
  const segmentsDir = join(config.dataDir, 'segments');
  const ofMode = shared ? `-${config.kafkaTopic}` : '';
  const changeFeed = new ChangeFeed(join(segmentsDir, `changes${ofMode}`), segmentStore);
  const sizeHistory = new SizeHistory(join(segmentsDir, `sizes${ofMode}.ndjson`));
  const lastRuns = new LastRuns(join(segmentsDir, `last-runs${ofMode}.json`));
  // Before shards learn any segment, so no change goes unreported. Kafka mode: every
  // process's shards feed one topic that every process mirrors.
  let sharedChanges: SharedChanges | undefined;
  let sharedRuns: SharedRuns | undefined;
  let sharedLinks: SharedLinks | undefined;
  let recorder: RunRecorder;
  if (shared) {
    const k = { ...config, brokers: config.kafkaBrokers! };
    try {
      sharedChanges = await SharedChanges.open(k, changeFeed);
      sharedRuns = await SharedRuns.open(k, sizeHistory, lastRuns);
      sharedLinks = await SharedLinks.open(k, config.dataDir, engine);
    } catch (err) {
      await sharedRuns?.close();
      await sharedChanges?.close();
      await engine.close();
      throw err;
    }
    const [changesOut, linksOut] = [sharedChanges, sharedLinks];
    engine.onSegmentChanges = (changes) => changesOut.write(changes);
    engine.onLinks = (links) => linksOut.write(links);
    recorder = sharedRuns;
  } else {
    engine.onSegmentChanges = (changes) => changeFeed.publish(changes);
    recorder = new LocalRuns(sizeHistory, lastRuns);
  }
  let writer: DefinitionWriter;
  if (shared) {
    try {
      await shared.open(shards);
    } catch (err) {
      await sharedLinks?.close();
      await sharedRuns?.close();
      await sharedChanges?.close();
      await engine.close();
      throw err;
    }
    engine.definitionsApplied = () => shared.appliedEnd;
    writer = shared;
  } else {
    await syncShards(shards, segmentStore);
    writer = localDefinitions({ ...stores, shards });
  }
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
  const clickhouse = await connectClickHouse(config);
  const analysis = { engine, definitions, clickhouse };
  const tagKey = loadTagKey(config.dataDir);
  // After the feed: a slot missed while down runs at once, and its changes are logged.
  const scheduler = new SegmentScheduler(engine, segmentStore, lastRuns, recorder, {
    leads: shared && (() => engine.ownedPartitions.includes(0)),
  });
  await registerSecretRoutes(app, keys, (scope) => {
    registerEventsQuery(scope, engine, definitions, clickhouse);
    registerFunnelQuery(scope, analysis);
    registerRetentionQuery(scope, analysis);
    registerPathsQuery(scope, analysis);
    registerHeatmapQuery(scope, analysis);
    registerDefinitionRoutes(
      scope,
      definitions,
      (project, name) => segmentStore.eventReaders(project, name).map((s) => `segment ${s.id}`),
      writer,
    );
    registerUserRoutes(scope, engine, segmentStore);
    // Decide takes the secret key like every other non-ingest route: it reveals profile facts.
    registerDecideRoute(scope, engine, segmentStore);
    registerTagRoutes(scope, { engine, store: segmentStore, writer, tagKey });
    registerSegmentRoutes(scope, {
      engine,
      store: segmentStore,
      writer,
      history: sizeHistory,
      recorder,
      scheduler,
    });
    registerChangeRoutes(scope, { store: segmentStore, feed: changeFeed });
    if (shared) registerPeerRoute(scope, engine, (offset) => shared.caughtUp(offset));
  });
  registerHealthRoutes(app, engine);
  registerSdkAssets(app);
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    scheduler.stop();
    await sharedLinks?.close();
    await sharedRuns?.close();
    await sharedChanges?.close();
    await shared?.close();
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
      scheduler.stop();
      await app.close();
      // Definitions stop following first: nothing applies to shards being stopped.
      await shared?.close();
      await engine.close();
      // After the shards and the ingest worker: their last changes and links are written first.
      await sharedChanges?.close();
      await sharedRuns?.close();
      await sharedLinks?.close();
      changeFeed.close();
      await clickhouse?.close();
    },
  };
}

/** ClickHouse when CLICKHOUSE_URL is set, with its schema migrated; queries may then ask for `engine: "clickhouse"`. */
async function connectClickHouse(config: WeftConfig): Promise<ClickHouse | undefined> {
  const ch = ClickHouse.fromConfig(config);
  if (!ch) return undefined;
  try {
    await migrate(ch);
  } catch (err) {
    // The index answers without it; SQL queries report the failure when asked for.
    console.error(`weft: ClickHouse at ${config.clickhouseUrl} is not usable: ${(err as Error).message}`);
  }
  return ch;
}
