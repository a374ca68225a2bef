import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CapLedger } from '../../src/segments/cap-ledger.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-caps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe('CapLedger', () => {
  it('keeps what it answered across a crash (journal), a clean restart (state) and both', () => {
    const a = new CapLedger(dir);
    expect(a.consume('p\nu1', 'push', 2, HOUR, T).allowed).toBe(true);
    a.persist(T);
    expect(a.consume('p\nu1', 'push', 2, HOUR, T + 1).allowed).toBe(true);
    expect(a.consume('p\nu1', 'push', 2, HOUR, T + 2).allowed).toBe(false);
    // No close: the process "dies"; the second consumption is only in the journal.
    const b = new CapLedger(dir);
    expect(b.consume('p\nu1', 'push', 2, HOUR, T + 3)).toMatchObject({ allowed: false, resetAt: T + HOUR });
    expect(b.consume('p\nu2', 'push', 2, HOUR, T + 3).allowed).toBe(true);
    b.close();
    // A torn last journal line (a write cut short) is ignored.
    appendFileSync(join(dir, 'caps.journal'), '[99,"p\\nu3"');
    const c = new CapLedger(dir);
    expect(c.consume('p\nu2', 'push', 1, HOUR, T + 4).allowed).toBe(false);
    expect(c.consume('p\nu1', 'push', 2, HOUR, T + HOUR + 1).allowed).toBe(true);
    c.close();
  });
});
