export {
  type BenchEvent,
  EVENT_NAMES,
  EventGenerator,
  type GenOptions,
  generateBodies,
} from './ingest/gen.js';
