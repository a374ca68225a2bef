import { WeftError } from '@weft/core';
import type { KafkaSettings } from '../kafka/client-config.js';
import { TopicLog } from '../kafka/topic-log.js';
import { runsTopic } from '../kafka/topics.js';
import type { LastRuns } from '../segments/last-runs.js';
import type { RunRecorder } from '../segments/run-records.js';
import type { SizeHistory } from '../segments/size-history.js';

/** Longest wait of a record for this process to read it back. */
const APPLY_WAIT_MS = 30_000;

interface RunValue {
  p: string;
  id: string;
  t: number;
  size: number;
  run: boolean;
}

/**
 * Kafka mode: segment size samples and runs go through the runs topic (one partition), and
 * every process mirrors it into its size history and last runs (files of their own per
 * topic). So every process shows one history, and whichever process leads the schedule
 * knows which slots already ran, wherever they ran.
 */
export class SharedRuns implements RunRecorder {
  private constructor(private readonly log: TopicLog) {}

  /** Follows the topic from just past the last sample the history took from it. */
  static async open(k: KafkaSettings, history: SizeHistory, runs: LastRuns): Promise<SharedRuns> {
    const log = await TopicLog.open(k, {
      topic: runsTopic(k),
      client: 'weft-runs',
      what: 'segment runs',
      from: history.nextOffset,
    });
    log.follow((records) => {
      for (const r of records) {
        if (!r.value) continue;
        try {
          const v = JSON.parse(r.value.toString('utf8')) as RunValue;
          // Last runs first: a crash between the two replays the sample, never skips the run.
          if (v.run) runs.record(v.p, v.id, v.t);
          history.record(v.p, v.id, v.size, v.t, r.offset);
        } catch (err) {
          console.error(
            `weft: skipping an unreadable run record at offset ${r.offset}: ${(err as Error).message}`,
          );
        }
      }
    });
    return new SharedRuns(log);
  }

  async record(project: string, id: string, size: number, at: number, run: boolean): Promise<void> {
    const value: RunValue = { p: project, id, t: at, size, run };
    const end = await this.log.write([{ key: project, value: Buffer.from(JSON.stringify(value)) }]);
    if (!(await this.log.whenApplied(end, APPLY_WAIT_MS))) {
      throw new WeftError(
        'overloaded',
        'the run is stored but not read back here yet; retry shortly',
        undefined,
        1,
      );
    }
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
