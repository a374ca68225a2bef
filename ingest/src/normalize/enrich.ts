import type { Properties } from '@weft/core';
import { channelOf } from './channel.js';
import { addUtmParams, hostOf } from './url.js';

/**
 * Adds server-side properties to an event, never overwriting what the event already carries:
 * `$ip`, `$user_agent`, and for events with a page URL or referrer the `$utm_*` parameters of
 * `$url`, `$referring_domain` and `$channel`.
 */
export function enrich(
  props: Properties,
  ip: string | undefined,
  userAgent: string | undefined,
  maxValueLength: number,
): void {
  if (ip !== undefined && props.$ip === undefined) props.$ip = ip;
  if (userAgent !== undefined && props.$user_agent === undefined) {
    props.$user_agent = userAgent.length > maxValueLength ? userAgent.slice(0, maxValueLength) : userAgent;
  }
  const url = props.$url;
  const referrer = props.$referrer;
  const hasUrl = typeof url === 'string';
  if (!hasUrl && typeof referrer !== 'string') return;
  if (hasUrl && url.includes('utm_')) addUtmParams(props, url);
  const referrerHost = typeof referrer === 'string' ? hostOf(referrer) : undefined;
  if (referrerHost !== undefined && props.$referring_domain === undefined) {
    props.$referring_domain = referrerHost;
  }
  if (props.$channel === undefined) {
    const medium = props.$utm_medium;
    props.$channel = channelOf(
      typeof medium === 'string' ? medium : undefined,
      referrerHost,
      hasUrl && referrerHost !== undefined ? hostOf(url) : undefined,
    );
  }
}
