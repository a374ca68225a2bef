import { ANON_ID_PROPERTY, IDENTIFY_EVENT } from '@weft/core';
import { isPlainObject } from '../normalize/properties.js';

/** The Segment HTTP Tracking API calls (segment.com/docs/connections/sources/catalog/libraries/server/http-api). */
export type SegmentCall = 'batch' | 'track' | 'identify' | 'page' | 'screen' | 'alias' | 'group';

export const SEGMENT_CALLS: readonly SegmentCall[] = [
  'batch',
  'track',
  'identify',
  'page',
  'screen',
  'alias',
  'group',
];

/** A message that cannot become an event, with the reason naming Segment's field. */
export class SegmentRejection {
  constructor(readonly reason: string) {}
}

type Json = Record<string, unknown>;

/** context fields Weft keeps, as reserved properties; the rest of context is dropped. */
const CONTEXT_PATHS: ReadonlyArray<[string[], string]> = [
  [['ip'], '$ip'],
  [['userAgent'], '$user_agent'],
  [['page', 'url'], '$url'],
  [['page', 'path'], '$path'],
  [['page', 'referrer'], '$referrer'],
  [['page', 'title'], '$title'],
  [['library', 'name'], '$lib'],
  [['library', 'version'], '$lib_version'],
  [['campaign', 'source'], '$utm_source'],
  [['campaign', 'medium'], '$utm_medium'],
  [['campaign', 'name'], '$utm_campaign'],
  [['campaign', 'term'], '$utm_term'],
  [['campaign', 'content'], '$utm_content'],
  [['locale'], '$locale'],
  [['timezone'], '$timezone'],
  [['os', 'name'], '$os'],
  [['device', 'type'], '$device_type'],
  [['screen', 'width'], '$screen_width'],
  [['screen', 'height'], '$screen_height'],
];

function at(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function properties(msg: Json, own: unknown): Json {
  const props: Json = isPlainObject(own) ? { ...own } : {};
  for (const [path, name] of CONTEXT_PATHS) {
    const v = at(msg.context, path);
    if (v !== undefined && v !== null && !(name in props)) props[name] = v;
  }
  return props;
}

/** One Segment message as a Weft event in the /v1/batch shape, or why it cannot be one. */
export function fromSegmentMessage(
  call: Exclude<SegmentCall, 'batch'>,
  msg: unknown,
): Json | SegmentRejection {
  if (!isPlainObject(msg)) return new SegmentRejection('message: must be an object');
  const userId = idOf(msg.userId);
  const anonymousId = idOf(msg.anonymousId);
  const event: Json = {};
  if (msg.messageId !== undefined) event.event_id = msg.messageId;
  const time = msg.timestamp ?? msg.originalTimestamp;
  if (time !== undefined) event.time = time;
  switch (call) {
    case 'track':
      if (typeof msg.event !== 'string') return new SegmentRejection('event: must be a string');
      event.event = msg.event;
      event.properties = properties(msg, msg.properties);
      break;
    case 'page':
    case 'screen': {
      const props = properties(msg, msg.properties);
      if (typeof msg.name === 'string' && !('$title' in props)) props.$title = msg.name;
      if (call === 'page') {
        for (const [from, to] of [
          ['url', '$url'],
          ['path', '$path'],
          ['referrer', '$referrer'],
        ] as const) {
          if (props[from] !== undefined && props[to] === undefined) props[to] = props[from];
        }
      }
      event.event = call === 'page' ? '$pageview' : '$screen';
      event.properties = props;
      break;
    }
    case 'identify':
      event.event = IDENTIFY_EVENT;
      event.properties = properties(msg, userId && anonymousId ? { [ANON_ID_PROPERTY]: anonymousId } : {});
      if (msg.traits !== undefined) event.$set = msg.traits;
      break;
    case 'alias': {
      const previousId = idOf(msg.previousId);
      if (!previousId) return new SegmentRejection('previousId: must be a non-empty string');
      if (!userId) return new SegmentRejection('userId: must be a non-empty string');
      // An alias links the previous id to the user, as identify links an anonymous id.
      event.event = IDENTIFY_EVENT;
      event.properties = properties(msg, { [ANON_ID_PROPERTY]: previousId });
      break;
    }
    case 'group':
      if (idOf(msg.groupId) === undefined) return new SegmentRejection('groupId: must be a non-empty string');
      event.event = '$group';
      event.properties = properties(msg, {
        $group_id: idOf(msg.groupId),
        ...(isPlainObject(msg.traits) ? msg.traits : {}),
      });
      break;
  }
  const distinctId = userId ?? anonymousId;
  if (!distinctId) return new SegmentRejection('userId or anonymousId: one is required');
  event.distinct_id = distinctId;
  return event;
}

/**
 * A Segment request body as a Weft batch body (`{sent_at, write_key, events}`); events that
 * cannot convert stay in place as SegmentRejection so indexes in the answer still match.
 */
export function fromSegmentBody(call: SegmentCall, body: Json): Json {
  const sentAt = body.sentAt ?? body.sent_at;
  const writeKey = body.writeKey ?? body.write_key;
  if (call !== 'batch')
    return { sent_at: sentAt, write_key: writeKey, events: [fromSegmentMessage(call, body)] };
  const messages = body.batch;
  const events = Array.isArray(messages)
    ? messages.map((m) => {
        const type = isPlainObject(m) ? m.type : undefined;
        if (typeof type !== 'string' || !SEGMENT_CALLS.includes(type as SegmentCall) || type === 'batch') {
          return new SegmentRejection('type: must be track, identify, page, screen, alias or group');
        }
        return fromSegmentMessage(type as Exclude<SegmentCall, 'batch'>, m);
      })
    : messages;
  return { sent_at: sentAt, write_key: writeKey, events };
}
