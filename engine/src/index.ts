export { Engine, type EngineStats } from './engine.js';
export { type RunningWeft, startWeft, type WeftOptions } from './server.js';
