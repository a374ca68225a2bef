import { ChangeLog, type ChangeLogOptions, type LoggedChange, type LogRead } from './change-log.js';
import type { SegmentChange } from './protocol.js';
import type { SegmentStore, Webhook } from './store.js';
import { WebhookOutbox, type WebhookOutboxOptions } from './webhook-outbox.js';

type Listener = (changes: LoggedChange[]) => void;

export interface ChangeFeedOptions {
  log?: ChangeLogOptions;
  webhooks?: WebhookOutboxOptions;
}

/**
 * Entry and exit changes from the shards, for journeys to consume: numbered into a durable
 * log (data dir `segments/changes/`), then fanned out to server-sent-event streams, which
 * resume after a reconnect from the log, and to webhook subscriptions through their outbox.
 */
export class ChangeFeed {
  private readonly listeners = new Set<{ project: string; segment: string | undefined; fn: Listener }>();
  private readonly log: ChangeLog;
  private readonly outbox: WebhookOutbox;
  private closed = false;

  constructor(dir: string, store: SegmentStore, options: ChangeFeedOptions = {}) {
    this.log = new ChangeLog(dir, options.log);
    this.outbox = new WebhookOutbox(dir, store, this.log, options.webhooks);
  }

  get lastId(): number {
    return this.log.lastId;
  }

  get oldestId(): number {
    return this.log.oldestId;
  }

  /** Logged changes of one chunk after `after` up to `through`; undefined when retention dropped them. */
  readFrom(after: number, through: number): LogRead | undefined {
    return this.log.readFrom(after, through);
  }

  /** Live changes of a project (one segment's, when given), from the next one logged. */
  subscribe(project: string, segment: string | undefined, fn: Listener): () => void {
    const entry = { project, segment, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  publish(changes: SegmentChange[]): void {
    if (!this.closed) this.deliver(this.log.append(changes));
  }

  /** Kafka mode: changes numbered by the changes topic that every process mirrors (see ChangeLog.mirror). */
  mirror(changes: LoggedChange[]): void {
    if (!this.closed) this.deliver(this.log.mirror(changes));
  }

  private deliver(logged: LoggedChange[]): void {
    if (logged.length === 0) return;
    for (const l of this.listeners) {
      const mine = logged.filter(
        (c) => c.project === l.project && (l.segment === undefined || c.segment === l.segment),
      );
      if (mine.length > 0) l.fn(mine);
    }
    for (const project of new Set(logged.map((c) => c.project))) this.outbox.wake(project);
    this.log.trim(this.outbox.delivered());
  }

  addWebhook(project: string, hook: Webhook): void {
    this.outbox.add(project, hook);
  }

  removeWebhook(project: string, id: string): boolean {
    return this.outbox.remove(project, id);
  }

  close(): void {
    this.closed = true;
    this.outbox.stop();
    this.log.close();
  }
}
