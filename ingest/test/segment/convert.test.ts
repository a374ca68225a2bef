import { StaticKeys } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../src/batch/process.js';
import { fromSegmentBody, fromSegmentMessage, type SegmentRejection } from '../../src/segment/convert.js';
import { limits } from '../helpers.js';

const keys = new StaticKeys([{ project: 'p', writeKey: 'wk', secretKey: 'sk' }]);
const context = {
  ip: '203.0.113.9',
  userAgent: 'Mozilla/5.0',
  library: { name: 'analytics-node', version: '6.0.0' },
  page: { url: 'https://shop.example/cart?x=1', path: '/cart', referrer: 'https://www.google.com/' },
  campaign: { source: 'newsletter', medium: 'email', name: 'spring' },
  unknown: { nested: true },
};

function run(body: unknown, segment?: 'batch' | 'track' | 'identify' | 'page' | 'alias') {
  return processBatch(
    {
      bytes: Buffer.from(JSON.stringify(body)),
      format: 'json',
      receivedAt: Date.UTC(2026, 0, 2),
      writeKey: 'wk',
      segment,
    },
    keys,
    limits,
  );
}

describe('Segment HTTP Tracking API shapes', () => {
  it('maps track: messageId, timestamp, properties and context', () => {
    const e = fromSegmentMessage('track', {
      type: 'track',
      userId: 'u-1',
      event: 'Order Completed',
      properties: { revenue: 39.95, currency: 'USD' },
      context,
      timestamp: '2026-01-01T10:00:00.000Z',
      messageId: 'm-1',
    });
    expect(e).toEqual({
      event_id: 'm-1',
      time: '2026-01-01T10:00:00.000Z',
      event: 'Order Completed',
      distinct_id: 'u-1',
      properties: {
        revenue: 39.95,
        currency: 'USD',
        $ip: '203.0.113.9',
        $user_agent: 'Mozilla/5.0',
        $url: 'https://shop.example/cart?x=1',
        $path: '/cart',
        $referrer: 'https://www.google.com/',
        $lib: 'analytics-node',
        $lib_version: '6.0.0',
        $utm_source: 'newsletter',
        $utm_medium: 'email',
        $utm_campaign: 'spring',
      },
    });
  });

  it('maps identify and alias to $identify linking the earlier id, with traits as $set', () => {
    expect(
      fromSegmentMessage('identify', { userId: 'u-1', anonymousId: 'a-1', traits: { plan: 'pro' } }),
    ).toEqual({
      event: '$identify',
      distinct_id: 'u-1',
      properties: { $anon_distinct_id: 'a-1' },
      $set: { plan: 'pro' },
    });
    expect(fromSegmentMessage('identify', { anonymousId: 'a-1', traits: { email: 'x@y' } })).toMatchObject({
      distinct_id: 'a-1',
      properties: {},
    });
    expect(fromSegmentMessage('alias', { previousId: 'old', userId: 'new' })).toMatchObject({
      event: '$identify',
      distinct_id: 'new',
      properties: { $anon_distinct_id: 'old' },
    });
  });

  it('maps page, screen and group', () => {
    expect(
      fromSegmentMessage('page', {
        anonymousId: 'a',
        name: 'Pricing',
        properties: { url: 'https://x/p', path: '/p' },
      }),
    ).toMatchObject({
      event: '$pageview',
      properties: { $title: 'Pricing', $url: 'https://x/p', $path: '/p' },
    });
    expect(fromSegmentMessage('screen', { userId: 'u', name: 'Home' })).toMatchObject({
      event: '$screen',
      properties: { $title: 'Home' },
    });
    expect(fromSegmentMessage('group', { userId: 'u', groupId: 'g-1', traits: { size: 5 } })).toMatchObject({
      event: '$group',
      properties: { $group_id: 'g-1', size: 5 },
    });
  });

  it('rejects messages naming the Segment field', () => {
    const reason = (m: unknown, call: 'track' | 'alias' | 'group' = 'track') =>
      (fromSegmentMessage(call, m) as SegmentRejection).reason;
    expect(reason({ event: 'x' })).toBe('userId or anonymousId: one is required');
    expect(reason({ userId: 'u' })).toBe('event: must be a string');
    expect(reason({ userId: 'u' }, 'alias')).toBe('previousId: must be a non-empty string');
    expect(reason({ userId: 'u' }, 'group')).toBe('groupId: must be a non-empty string');
    const batch = fromSegmentBody('batch', { batch: [{ type: 'flush' }] });
    expect((batch.events as SegmentRejection[])[0]!.reason).toMatch(/^type: must be/);
  });

  it('processes a Segment batch posted to /v1/batch, with partial success and sentAt skew', () => {
    const { events, result } = run({
      sentAt: '2026-01-01T23:59:59.000Z',
      batch: [
        { type: 'track', userId: 'u', event: 'A', timestamp: '2026-01-01T23:59:58.000Z', messageId: 'm1' },
        { type: 'track', event: 'no ids' },
        { type: 'identify', userId: 'u', anonymousId: 'anon', traits: { plan: 'pro' }, messageId: 'm2' },
      ],
    });
    expect(result).toEqual({
      accepted: 2,
      rejected: [{ index: 1, reason: 'userId or anonymousId: one is required' }],
    });
    // Client clock one second behind the server: corrected by receivedAt - sentAt.
    expect(events[0]!.time).toBe(Date.UTC(2026, 0, 1, 23, 59, 59));
    expect(events[1]).toMatchObject({ event: '$identify', event_id: 'm2', $set: { plan: 'pro' } });
  });

  it('takes single calls on /v1/segment/<call>, and the write key from the body', () => {
    const body = { writeKey: 'wk', userId: 'u', event: 'Signed Up', messageId: 'm9' };
    const { events } = processBatch(
      { bytes: Buffer.from(JSON.stringify(body)), format: 'json', receivedAt: 0, segment: 'track' },
      keys,
      limits,
    );
    expect(events.map((e) => [e.event, e.event_id])).toEqual([['Signed Up', 'm9']]);
  });
});
