import type { Props } from '../types.js';

export const LIB_VERSION = '0.1.0';

/** Properties of the page an event happened on; the collector derives channel and UA itself. */
export function pageContext(referrer: string): Props {
  return {
    $lib: 'weft-web',
    $lib_version: LIB_VERSION,
    $url: location.href,
    $host: location.host,
    $path: location.pathname,
    $title: document.title.slice(0, 255),
    $referrer: referrer,
  };
}

const CAMPAIGN = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'gclid',
  'fbclid',
  'msclkid',
];

/** Campaign parameters of the landing URL, as `$utm_source` etc. */
export function campaignProps(search: string): Props {
  const q = new URLSearchParams(search);
  const p: Props = {};
  for (const k of CAMPAIGN) {
    const v = q.get(k);
    if (v) p[`$${k}`] = v.slice(0, 255);
  }
  return p;
}

export function referringDomain(referrer: string): string {
  try {
    return referrer ? new URL(referrer).host : '';
  } catch {
    return '';
  }
}

/**
 * What makes two URLs the same page: the path and query, plus the hash only for hash
 * routers (`#/…`, `#!…`); in-page anchors (`#section`) are not navigations.
 */
export function pageKey(l: Location): string {
  const h = /^#[/!]/.test(l.hash) ? l.hash : '';
  return l.origin + l.pathname + l.search + h;
}
