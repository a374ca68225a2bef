import { brandOf, siteOf } from './url.js';

export type Channel = 'direct' | 'paid' | 'email' | 'search' | 'social' | 'referral' | 'internal';

/** utm_medium values (lower case) by the channel they mean; unknown media fall back to the referrer. */
const MEDIA: [Channel, string[]][] = [
  [
    'paid',
    ['cpc', 'ppc', 'cpm', 'cpv', 'cpa', 'sem', 'ad', 'ads', 'display', 'banner', 'retargeting', 'affiliate'],
  ],
  ['email', ['email', 'e-mail', 'e_mail', 'mail', 'newsletter', 'edm']],
  ['social', ['social', 'social-network', 'social_network', 'social-media', 'social_media', 'sm', 'sns']],
  ['search', ['organic', 'seo']],
  ['referral', ['referral', 'link']],
];
const MEDIUM_CHANNEL = new Map(
  MEDIA.flatMap(([channel, media]) => media.map((medium): [string, Channel] => [medium, channel])),
);

/** Site labels (see brandOf) of search engines: google.co.uk, m.baidu.com, so.com (360), sm.cn (Shenma)... */
const SEARCH_SITES = new Set([
  'google',
  'bing',
  'baidu',
  'yahoo',
  'yandex',
  'duckduckgo',
  'sogou',
  'so',
  'sm',
  'ecosia',
  'naver',
  'ask',
  'seznam',
]);

/** Site labels of social networks; `t` covers the t.co and t.cn link shorteners, `qq` WeChat articles. */
const SOCIAL_SITES = new Set([
  'facebook',
  'fb',
  'instagram',
  'x',
  't',
  'twitter',
  'linkedin',
  'lnkd',
  'weibo',
  'wechat',
  'weixin',
  'qq',
  'douyin',
  'tiktok',
  'kuaishou',
  'xiaohongshu',
  'xhslink',
  'zhihu',
  'bilibili',
  'reddit',
  'youtube',
  'pinterest',
  'vk',
  'telegram',
  'whatsapp',
  'line',
]);

/**
 * The acquisition channel of a visit: utm_medium wins when it is a known medium; otherwise the
 * referrer decides (none: direct; same site as the page: internal; a search or social site).
 */
export function channelOf(
  medium: string | undefined,
  referrerHost: string | undefined,
  pageHost: string | undefined,
): Channel {
  if (medium !== undefined) {
    const lower = medium.toLowerCase();
    const byMedium = MEDIUM_CHANNEL.get(lower);
    if (byMedium !== undefined) return byMedium;
    if (lower.startsWith('paid')) return 'paid';
  }
  if (referrerHost === undefined) return 'direct';
  if (pageHost !== undefined && siteOf(referrerHost) === siteOf(pageHost)) return 'internal';
  const brand = brandOf(referrerHost);
  if (SEARCH_SITES.has(brand)) return 'search';
  if (SOCIAL_SITES.has(brand)) return 'social';
  return 'referral';
}
