import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has embedded defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, fsync: 'interval', kafkaBrokers: undefined });
    expect(c.dataDir.endsWith('/data')).toBe(true);
  });

  it('reads the environment and names a bad variable', () => {
    expect(loadConfig({ WEFT_PORT: '9000', WEFT_FSYNC: 'always', WEFT_SHARDS: '3' })).toMatchObject({
      port: 9000,
      fsync: 'always',
      shards: 3,
    });
    expect(() => loadConfig({ WEFT_PORT: 'eighty' })).toThrow(/WEFT_PORT/);
    expect(() => loadConfig({ WEFT_FSYNC: 'sometimes' })).toThrow(
      /WEFT_FSYNC: expected one of always, interval, none/,
    );
    expect(() => loadConfig({ WEFT_SHARDS: '0' })).toThrow(/WEFT_SHARDS/);
  });
});
