import type { ServerResponse } from 'node:http';
import { WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { ChangeFeed } from '../segments/change-feed.js';
import type { LoggedChange } from '../segments/change-log.js';
import type { SegmentStore, Webhook } from '../segments/store.js';

export interface ChangeRouteDeps {
  store: SegmentStore;
  feed: ChangeFeed;
}

const HEARTBEAT_MS = 15_000;

/** One change as a server-sent event; its id is what a reconnecting client sends back. */
function changeEvent(c: LoggedChange): string {
  return `id: ${c.id}\nevent: ${c.change}\ndata: ${JSON.stringify(c)}\n\n`;
}

/** Resolves once the socket takes more, or is gone. */
function drained(out: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/** A `Last-Event-ID` (header, or `last_event_id` for clients that cannot set headers): a log id. */
function lastEventId(header: string | string[] | undefined, query: string | undefined): number | undefined {
  const text = (Array.isArray(header) ? header[0] : header) ?? query;
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) {
    throw new WeftError('invalid', 'Last-Event-ID: expected the id of a change event', {
      field: 'Last-Event-ID',
    });
  }
  return Number(text);
}

/**
 * Sends the logged changes after `after` that match, up to `through`, waiting for the socket
 * between chunks. Where retention dropped some, a `gap` event says which ids were lost.
 */
async function replay(
  feed: ChangeFeed,
  out: ServerResponse,
  matches: (c: LoggedChange) => boolean,
  after: number,
  through: number,
): Promise<void> {
  let at = after;
  while (at < through && !out.destroyed) {
    const read = feed.readFrom(at, through);
    if (!read) {
      out.write(
        `event: gap\ndata: ${JSON.stringify({ last_event_id: at, oldest_id: feed.oldestId, reason: 'expired' })}\n\n`,
      );
      at = feed.oldestId - 1;
      continue;
    }
    const text = read.changes.filter(matches).map(changeEvent).join('');
    at = read.upTo;
    // A chunk at a time, letting other requests in between.
    if (text !== '' && !out.write(text)) await drained(out);
    else await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The entry/exit change feed: a server-sent-event stream that resumes, and webhook subscriptions. */
export function registerChangeRoutes(app: FastifyInstance, deps: ChangeRouteDeps): void {
  const { store, feed } = deps;
  // Streams never end on their own: closing the server ends them, or it would wait on them forever.
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const out of streams) out.end();
  });

  // `event: entry|exit`, `id:` the change's log id, data the change. A client reconnecting with
  // Last-Event-ID first gets what it missed from the log, then the live changes.
  app.get<{ Querystring: { segment?: string; last_event_id?: string } }>(
    '/v1/segments/changes',
    async (request, reply) => {
      const project = request.project;
      const segment = request.query.segment;
      if (segment !== undefined && !store.get(project, segment)) {
        throw new WeftError('not_found', `id: no segment "${segment}"`, { field: 'id' });
      }
      const after = lastEventId(request.headers['last-event-id'], request.query.last_event_id);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      out.write(': subscribed\n\n');
      streams.add(out);
      const matches = (c: LoggedChange): boolean =>
        c.project === project && (segment === undefined || c.segment === segment);
      // Live changes wait while the replay runs; the log holds everything up to `through`.
      const through = feed.lastId;
      let waiting: LoggedChange[] | undefined = [];
      const off = feed.subscribe(project, segment, (changes) => {
        if (waiting) waiting.push(...changes);
        else out.write(changes.map(changeEvent).join(''));
      });
      const heartbeat = setInterval(() => out.write(': heartbeat\n\n'), HEARTBEAT_MS);
      request.raw.on('close', () => {
        clearInterval(heartbeat);
        off();
        streams.delete(out);
      });
      if (after !== undefined && after > through) {
        // Ids this log never handed out: another data dir's, or lost with an unsynced tail.
        out.write(
          `event: gap\ndata: ${JSON.stringify({ last_event_id: after, oldest_id: feed.oldestId, reason: 'unknown' })}\n\n`,
        );
      } else if (after !== undefined) {
        await replay(feed, out, matches, after, through);
      }
      const held = waiting;
      waiting = undefined;
      if (held.length > 0) out.write(held.map(changeEvent).join(''));
    },
  );

  app.post<{ Body: { url: string; segment?: string } }>(
    '/v1/segments/webhooks',
    {
      schema: {
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', minLength: 1, maxLength: 2000, pattern: '^https?://' },
            segment: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const { url, segment } = request.body;
      if (segment !== undefined && !store.get(request.project, segment)) {
        throw new WeftError('invalid', `segment: no segment "${segment}"`, { field: 'segment' });
      }
      const hook: Webhook = {
        id: `wh_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`,
        url,
        created_at: Date.now(),
      };
      if (segment !== undefined) hook.segment = segment;
      feed.addWebhook(request.project, hook);
      reply.code(201);
      return hook;
    },
  );

  app.get('/v1/segments/webhooks', async (request) => ({ webhooks: store.webhooks(request.project) }));

  app.delete<{ Params: { hook: string } }>('/v1/segments/webhooks/:hook', async (request, reply) => {
    if (!feed.removeWebhook(request.project, request.params.hook)) {
      throw new WeftError('not_found', `id: no webhook "${request.params.hook}"`, { field: 'id' });
    }
    reply.code(204);
  });
}
