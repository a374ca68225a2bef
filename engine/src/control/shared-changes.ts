import type { KafkaSettings } from '../kafka/client-config.js';
import { TopicLog, type TopicRecord } from '../kafka/topic-log.js';
import { changesTopic } from '../kafka/topics.js';
import type { ChangeFeed } from '../segments/change-feed.js';
import type { LoggedChange } from '../segments/change-log.js';
import type { SegmentChange } from '../segments/protocol.js';

/** Most changes in one write; a scheduled run's millions of entries go in several. */
const WRITE_MAX = 10_000;
const RETRY_MS = 1000;

type Value = [project: string, segment: string, distinctId: string, change: 'entry' | 'exit', at: number];

function encode(c: SegmentChange): TopicRecord {
  const value: Value = [c.project, c.segment, c.distinct_id, c.change, c.at];
  return { key: c.project, value: Buffer.from(JSON.stringify(value)) };
}

function decode(value: Buffer, id: number): LoggedChange {
  const [project, segment, distinct_id, change, at] = JSON.parse(value.toString('utf8')) as Value;
  return { id, project, segment, distinct_id, change, at };
}

/**
 * Kafka mode: the entry/exit feed of every process's shards goes through the changes topic
 * (one partition). Each process writes its own shards' changes there, one record per
 * change, and mirrors the whole topic into its change feed, numbered by offset (id =
 * offset + 1): streams and webhooks on any process see the changes of every partition, and
 * a stream resumes with the same Last-Event-ID on any process. Writes are retried until the
 * broker takes them, so a change may be fed twice after a failure, never lost while the
 * process runs.
 */
export class SharedChanges {
  private queue: SegmentChange[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly log: TopicLog) {}

  /** Follows the topic from just past the feed's newest change. */
  static async open(k: KafkaSettings, feed: ChangeFeed): Promise<SharedChanges> {
    const log = await TopicLog.open(k, {
      topic: changesTopic(k),
      client: 'weft-changes',
      what: 'segment changes',
      from: feed.lastId,
    });
    log.follow((records) => {
      const changes: LoggedChange[] = [];
      for (const r of records) {
        try {
          if (r.value) changes.push(decode(r.value, r.offset + 1));
        } catch (err) {
          console.error(
            `weft: skipping an unreadable change at offset ${r.offset}: ${(err as Error).message}`,
          );
        }
      }
      feed.mirror(changes);
    });
    return new SharedChanges(log);
  }

  write(changes: readonly SegmentChange[]): void {
    for (const c of changes) this.queue.push(c);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, WRITE_MAX);
      try {
        await this.log.write(batch.map(encode));
      } catch (err) {
        const reason = (err as Error).message;
        if (this.closed) {
          console.error(
            `weft: ${batch.length + this.queue.length} segment changes not written at close: ${reason}`,
          );
          this.queue = [];
          return;
        }
        this.queue = batch.concat(this.queue);
        console.error(`weft: writing segment changes failed, retrying: ${reason}`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** Writes what is queued (one more try each, once closing), then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
    await this.log.close();
  }
}
