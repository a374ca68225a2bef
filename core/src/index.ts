export * from './auth.js';
export * from './config.js';
export * from './errors.js';
export * from './hash.js';
export * from './model.js';
export * from './random.js';
export * from './time.js';
