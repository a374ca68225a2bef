export {
  type BenchEvent,
  EVENT_NAMES,
  EventGenerator,
  type GenOptions,
  generateBodies,
  prng,
} from './ingest/gen.js';
