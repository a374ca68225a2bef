import type { KafkaSettings } from '../kafka/client-config.js';
import { QueuedWrites, TopicLog, type TopicRecord } from '../kafka/topic-log.js';
import { changesTopic } from '../kafka/topics.js';
import type { ChangeFeed } from '../segments/change-feed.js';
import type { LoggedChange } from '../segments/change-log.js';
import type { SegmentChange } from '../segments/protocol.js';

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
 * broker takes them (QueuedWrites).
 */
export class SharedChanges {
  private readonly writes: QueuedWrites<SegmentChange>;

  private constructor(private readonly log: TopicLog) {
    this.writes = new QueuedWrites(log, encode, 'segment changes');
  }

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
    this.writes.add(changes);
  }

  /** Writes what is queued, then disconnects. */
  async close(): Promise<void> {
    await this.writes.close();
    await this.log.close();
  }
}
