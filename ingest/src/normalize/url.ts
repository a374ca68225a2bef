import type { Properties } from '@weft/core';

/**
 * Small URL helpers for enrichment. They avoid `new URL()` (too slow per event) and never
 * throw: page URLs and referrers are client-supplied text.
 */

/** Lower-case host of an absolute (`scheme://`) or protocol-relative URL, without port or user info. */
export function hostOf(url: string): string | undefined {
  let start = url.indexOf('://');
  if (start !== -1) start += 3;
  else if (url.startsWith('//')) start = 2;
  else return undefined;
  let end = start;
  let upper = false;
  for (; end < url.length; end++) {
    const c = url.charCodeAt(end);
    // '/', '?', '#' and '\\' end the authority; '@' ends the user info
    if (c === 47 || c === 63 || c === 35 || c === 92) break;
    if (c === 64) start = end + 1;
    else if (c >= 65 && c <= 90) upper = true;
  }
  let host = url.slice(start, end);
  if (host.charCodeAt(0) === 91 /* '[' IPv6 */) {
    const close = host.indexOf(']');
    if (close !== -1) host = host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  if (host.length === 0) return undefined;
  return upper ? host.toLowerCase() : host;
}

/** Second-level labels under which country domains register names, as in google.co.uk. */
const GENERIC_SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'ne', 'or']);

/**
 * Where the label naming the site starts: `google` in www.google.co.uk, `baidu` in m.baidu.com.
 * A heuristic without the public suffix list, good enough for channels; no split() per event.
 */
function siteStart(host: string): number {
  const last = host.lastIndexOf('.');
  if (last <= 0) return 0;
  let dot = host.lastIndexOf('.', last - 1);
  if (dot !== -1 && GENERIC_SECOND_LEVEL.has(host.slice(dot + 1, last))) dot = host.lastIndexOf('.', dot - 1);
  return dot + 1;
}

/** The label naming the site of a host. */
export function brandOf(host: string): string {
  const start = siteStart(host);
  const end = host.indexOf('.', start);
  return host.slice(start, end === -1 ? host.length : end);
}

/** The registrable part of a host (example.co.uk for shop.example.co.uk); IP addresses stay whole. */
export function siteOf(host: string): string {
  const last = host.charCodeAt(host.length - 1);
  if ((last >= 48 && last <= 57) || host.charCodeAt(0) === 91) return host;
  return host.slice(siteStart(host));
}

const UTM_KEYS = new Map(
  ['source', 'medium', 'campaign', 'term', 'content'].map((name) => [`utm_${name}`, `$utm_${name}`]),
);

/** Copies the UTM query parameters of `url` into `props` as `$utm_*`, keeping values already there. */
export function addUtmParams(props: Properties, url: string): void {
  const query = url.indexOf('?');
  if (query === -1) return;
  let end = url.indexOf('#', query);
  if (end === -1) end = url.length;
  let start = query + 1;
  while (start < end) {
    let amp = url.indexOf('&', start);
    if (amp === -1 || amp > end) amp = end;
    if (url.startsWith('utm_', start)) {
      const eq = url.indexOf('=', start);
      const key = eq !== -1 && eq < amp - 1 ? UTM_KEYS.get(url.slice(start, eq)) : undefined;
      if (key !== undefined && props[key] === undefined) props[key] = decodeParam(url.slice(eq + 1, amp));
    }
    start = amp + 1;
  }
}

function decodeParam(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
