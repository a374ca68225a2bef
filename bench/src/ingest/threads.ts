import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadSample {
  /** CPU time, ms. */
  cpuMs: number;
  /** Time spent runnable but waiting for a CPU (run-queue delay), ms; 0 where schedstat is missing. */
  waitMs: number;
}

/** CPU and run-queue time of each thread of this process, by OS thread id; empty where /proc is missing. */
export function threadCpu(): Map<number, ThreadSample> {
  const out = new Map<number, ThreadSample>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      // schedstat: ns on CPU, ns waiting on a run queue, timeslices.
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ');
      out.set(Number(tid), { cpuMs: Number(run) / 1e6, waitMs: Number(wait) / 1e6 });
    } catch {
      try {
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (USER_HZ 100).
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(Number(tid), { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, waitMs: 0 });
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

export interface ThreadUse {
  name: string;
  cpuMs: number;
  waitMs: number;
}

/**
 * CPU and run-queue wait per thread between two samples. `named` labels known thread ids; the
 * rest are summed into "other" (V8 platform threads, libuv pool). Threads with the same label are
 * summed into one entry (e.g. every librdkafka thread as "librdkafka").
 */
export function threadUse(
  before: Map<number, ThreadSample>,
  after: Map<number, ThreadSample>,
  named: Map<number, string>,
): ThreadUse[] {
  const out: ThreadUse[] = [];
  const byName = new Map<string, ThreadUse>();
  const other: ThreadUse = { name: 'other', cpuMs: 0, waitMs: 0 };
  for (const [tid, s] of after) {
    const b = before.get(tid);
    const cpuMs = s.cpuMs - (b?.cpuMs ?? 0);
    const waitMs = s.waitMs - (b?.waitMs ?? 0);
    const name = named.get(tid);
    const same = name === undefined ? undefined : byName.get(name);
    if (same) {
      same.cpuMs += cpuMs;
      same.waitMs += waitMs;
    } else if (name !== undefined) {
      const use = { name, cpuMs, waitMs };
      byName.set(name, use);
      out.push(use);
    } else {
      other.cpuMs += cpuMs;
      other.waitMs += waitMs;
    }
  }
  out.push(other);
  return out;
}

/** The kernel's name of each thread of this process (`comm`; librdkafka names its threads `rdk:…`). */
export function threadNames(tids: Iterable<number>): Map<number, string> {
  const out = new Map<number, string>();
  for (const tid of tids) {
    try {
      out.set(tid, readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
    } catch {
      // the thread ended meanwhile, or no /proc
    }
  }
  return out;
}
