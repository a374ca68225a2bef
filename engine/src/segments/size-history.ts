import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readJsonLines } from '../fs/durable-files.js';

interface Sample {
  p: string;
  id: string;
  t: number;
  size: number;
  /** Kafka mode: the sample's offset in the runs topic, where mirroring resumes. */
  o?: number;
}

const MAX_PER_SEGMENT = 10_000;

/**
 * Sizes of segments over time: samples appended to an NDJSON file (creation, every run, and
 * a periodic sampler), read back per segment. The newest MAX_PER_SEGMENT samples are kept in memory.
 */
export class SizeHistory {
  private readonly samples = new Map<string, Array<{ t: number; size: number }>>();
  private mirrored = 0;

  constructor(private readonly path: string) {
    readJsonLines<Sample>(path, (s) => this.remember(s));
  }

  /** Kafka mode: the runs topic's offset just past the last sample taken from it. */
  get nextOffset(): number {
    return this.mirrored;
  }

  private remember(s: Sample): void {
    if (s.o !== undefined) this.mirrored = Math.max(this.mirrored, s.o + 1);
    const key = `${s.p}\n${s.id}`;
    let list = this.samples.get(key);
    if (!list) this.samples.set(key, (list = []));
    list.push({ t: s.t, size: s.size });
    if (list.length > MAX_PER_SEGMENT) list.splice(0, list.length - MAX_PER_SEGMENT);
  }

  record(project: string, id: string, size: number, t = Date.now(), offset?: number): void {
    const s: Sample = { p: project, id, t, size };
    if (offset !== undefined) s.o = offset;
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, `${JSON.stringify(s)}\n`);
    this.remember(s);
  }

  /** Samples of one segment, oldest first, from `from` on. */
  list(project: string, id: string, from = 0): Array<{ t: number; size: number }> {
    return (this.samples.get(`${project}\n${id}`) ?? []).filter((s) => s.t >= from);
  }
}
