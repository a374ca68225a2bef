import type { Engine } from '../engine.js';
import { readFileIfExists } from '../fs/durable-files.js';
import { type Link, linksEndPath } from '../identity/router.js';
import type { KafkaSettings } from '../kafka/client-config.js';
import { QueuedWrites, TopicLog, type TopicRecord } from '../kafka/topic-log.js';
import { linksTopic } from '../kafka/topics.js';

function encode(link: Link): TopicRecord {
  return { key: link[0], value: Buffer.from(JSON.stringify(link)) };
}

function isLink(v: unknown): v is Link {
  return Array.isArray(v) && v.length === 3 && v.every((part) => typeof part === 'string');
}

/**
 * Kafka mode: the identity links every process's identifies make go through the links topic
 * (one partition, kept), and every process's router learns them, so an id identified
 * through one collector routes to its person's partition through any other. The process
 * that routed the identify evicts the person; the others only route by the link. Until a
 * process has read a link (tens of milliseconds), it still routes the anonymous id by its
 * hash, to the partition the person left, whose shard sends those events on (apply-record.ts).
 */
export class SharedLinks {
  private readonly writes: QueuedWrites<Link>;

  private constructor(private readonly log: TopicLog) {
    this.writes = new QueuedWrites(log, encode, 'identity links');
  }

  /** Follows the topic from where this data dir's router read up to. */
  static async open(k: KafkaSettings, dataDir: string, engine: Engine): Promise<SharedLinks> {
    const log = await TopicLog.open(k, {
      topic: linksTopic(k),
      client: 'weft-links',
      what: 'identity links',
      from: Number(readFileIfExists(linksEndPath(dataDir)) ?? 0),
    });
    log.follow(async (records) => {
      const links: Link[] = [];
      for (const r of records) {
        let v: unknown;
        try {
          v = r.value && JSON.parse(r.value.toString('utf8'));
        } catch {
          v = undefined;
        }
        if (isLink(v)) links.push(v);
        else console.error(`weft: skipping an unreadable identity link at offset ${r.offset}`);
      }
      await engine.learnLinks(links, records.at(-1)!.offset + 1);
    });
    return new SharedLinks(log);
  }

  write(links: readonly Link[]): void {
    this.writes.add(links);
  }

  /** Writes what is queued, then disconnects. */
  async close(): Promise<void> {
    await this.writes.close();
    await this.log.close();
  }
}
