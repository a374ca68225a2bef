export * from './clickhouse/index.js';
export { Engine, type EngineStats } from './engine.js';
export { ProjectIndex } from './index/project-index.js';
export * from './query/index.js';
export { type RunningWeft, startWeft, type WeftOptions } from './server.js';
