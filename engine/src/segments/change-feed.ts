import type { SegmentChange } from './protocol.js';
import type { SegmentStore, Webhook } from './store.js';

type Listener = (changes: SegmentChange[]) => void;

const RETRY_MS = [1_000, 5_000, 25_000];

/**
 * Entry and exit changes from the shards, fanned out to server-sent-event streams and to
 * webhook subscriptions (for journeys to consume). Webhooks get a POST `{changes:[…]}` per
 * batch, retried three times with backoff; delivery is at least once and unordered across
 * batches, so consumers should key on (segment, distinct_id, at).
 */
export class ChangeFeed {
  private readonly listeners = new Set<{ project: string; segment: string | undefined; fn: Listener }>();

  constructor(
    private readonly store: SegmentStore,
    private readonly post: (url: string, body: string) => Promise<boolean> = postJson,
  ) {}

  subscribe(project: string, segment: string | undefined, fn: Listener): () => void {
    const entry = { project, segment, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  publish(changes: SegmentChange[]): void {
    for (const l of this.listeners) {
      const mine = changes.filter(
        (c) => c.project === l.project && (l.segment === undefined || c.segment === l.segment),
      );
      if (mine.length > 0) l.fn(mine);
    }
    const projects = new Set(changes.map((c) => c.project));
    for (const project of projects) {
      for (const hook of this.store.webhooks(project)) {
        const mine = changes.filter(
          (c) => c.project === project && (hook.segment === undefined || c.segment === hook.segment),
        );
        if (mine.length > 0) void this.deliver(hook, JSON.stringify({ changes: mine }), 0);
      }
    }
  }

  private async deliver(hook: Webhook, body: string, attempt: number): Promise<void> {
    if (await this.post(hook.url, body)) return;
    const wait = RETRY_MS[attempt];
    if (wait === undefined) {
      console.error(`weft: webhook ${hook.id} (${hook.url}) failed ${attempt + 1} times; changes dropped`);
      return;
    }
    setTimeout(() => void this.deliver(hook, body, attempt + 1), wait).unref();
  }
}

async function postJson(url: string, body: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}
