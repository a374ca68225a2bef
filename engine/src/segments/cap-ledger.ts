import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type CapResult, type CapSnapshot, FrequencyCaps } from '@weft/segments';
import { writeFileAtomic } from '../fs/durable-files.js';

type JournalEntry = [seq: number, user: string, key: string, max: number, perMs: number, now: number];

/**
 * A shard's frequency caps, durable across restarts: every allowed consumption is appended to
 * a journal (write(2) before the answer leaves the shard, so a killed process loses nothing it
 * answered), and each snapshot writes the whole state with the journal's sequence number and
 * empties the journal. Loading replays the entries past the saved sequence; tryConsume is
 * deterministic in its arguments, so the replay rebuilds exactly the state that was answered.
 */
export class CapLedger {
  private caps: FrequencyCaps;
  private seq = 0;
  private readonly fd: number;
  private readonly statePath: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.statePath = join(dir, 'caps.json');
    const journalPath = join(dir, 'caps.journal');
    try {
      const saved = JSON.parse(readFileSync(this.statePath, 'utf8')) as { seq: number; caps: CapSnapshot };
      this.caps = FrequencyCaps.restore(saved.caps);
      this.seq = saved.seq;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.caps = new FrequencyCaps('sliding');
    }
    let journal = '';
    try {
      journal = readFileSync(journalPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of journal.split('\n')) {
      if (line === '') continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        break; // a torn last line: the answer it belonged to never left
      }
      const [seq, user, key, max, perMs, now] = entry;
      if (seq <= this.seq) continue;
      this.caps.tryConsume(user, key, max, perMs, now);
      this.seq = seq;
    }
    this.fd = openSync(journalPath, 'a');
  }

  /** Check-and-consume for one user (atomic: a shard runs one request at a time). */
  consume(user: string, key: string, max: number, perMs: number, now: number): CapResult {
    const result = this.caps.tryConsume(user, key, max, perMs, now);
    if (result.allowed) {
      const entry: JournalEntry = [++this.seq, user, key, max, perMs, now];
      writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    }
    return result;
  }

  /** Writes the whole state and empties the journal; finished windows are dropped first. */
  persist(now: number): void {
    this.caps.sweep(now);
    writeFileAtomic(this.statePath, JSON.stringify({ seq: this.seq, caps: this.caps.snapshot() }));
    ftruncateSync(this.fd, 0);
  }

  close(): void {
    closeSync(this.fd);
  }
}
