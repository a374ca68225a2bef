import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { requireSecret, writeKeyOf } from '../../src/http/auth.js';
import { keys, SECRET_KEY, WRITE_KEY, weftError } from '../helpers.js';

function request(headers: Record<string, string | string[]>): FastifyRequest {
  return { headers } as unknown as FastifyRequest;
}

describe('requireSecret', () => {
  it('returns the project of a Bearer secret key, scheme case-insensitive', () => {
    expect(requireSecret(request({ authorization: `Bearer ${SECRET_KEY}` }), keys)).toBe('default');
    expect(requireSecret(request({ authorization: 'bearer sk_other' }), keys)).toBe('other');
  });

  it('throws 401 for a missing or unknown key and 403 for a write key', () => {
    for (const authorization of ['', 'Bearer ', 'Basic abc', `Bearer${SECRET_KEY}`]) {
      expect(weftError(() => requireSecret(request({ authorization }), keys)).status).toBe(401);
    }
    expect(weftError(() => requireSecret(request({}), keys)).status).toBe(401);
    expect(weftError(() => requireSecret(request({ authorization: 'Bearer x' }), keys)).message).toBe(
      'unknown secret key',
    );
    expect(
      weftError(() => requireSecret(request({ authorization: `Bearer ${WRITE_KEY}` }), keys)).status,
    ).toBe(403);
  });
});

describe('writeKeyOf', () => {
  const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

  it('prefers X-Write-Key, then the HTTP Basic username', () => {
    expect(writeKeyOf(request({ 'x-write-key': 'k1', authorization: basic('k2:') }))).toBe('k1');
    expect(writeKeyOf(request({ authorization: basic('k2:') }))).toBe('k2');
    expect(writeKeyOf(request({ authorization: basic('k3') }))).toBe('k3');
    expect(writeKeyOf(request({ authorization: basic(':password') }))).toBeUndefined();
    expect(writeKeyOf(request({ authorization: 'Bearer k4' }))).toBeUndefined();
    expect(writeKeyOf(request({}))).toBeUndefined();
  });
});
