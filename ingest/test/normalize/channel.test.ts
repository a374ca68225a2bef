import { describe, expect, it } from 'vitest';
import { channelOf } from '../../src/normalize/channel.js';

describe('channelOf', () => {
  it('uses a known utm_medium first, case-insensitively', () => {
    expect(channelOf('CPC', 'www.google.com', 'shop.com')).toBe('paid');
    expect(channelOf('paid_social', undefined, undefined)).toBe('paid');
    expect(channelOf('email', undefined, undefined)).toBe('email');
    expect(channelOf('newsletter', undefined, undefined)).toBe('email');
    expect(channelOf('social', undefined, undefined)).toBe('social');
    expect(channelOf('organic', undefined, undefined)).toBe('search');
    expect(channelOf('referral', undefined, undefined)).toBe('referral');
  });

  it('falls back to the referrer for unknown or absent media', () => {
    expect(channelOf('qr-poster', undefined, 'shop.com')).toBe('direct');
    expect(channelOf(undefined, undefined, 'shop.com')).toBe('direct');
    expect(channelOf(undefined, 'blog.shop.com', 'www.shop.com')).toBe('internal');
    expect(channelOf(undefined, 'news.ycombinator.com', 'shop.com')).toBe('referral');
  });

  it('recognizes search engines, including Chinese ones and country domains', () => {
    for (const host of [
      'www.google.com',
      'www.google.co.uk',
      'www.baidu.com',
      'm.baidu.com',
      'cn.bing.com',
      'www.so.com',
      'm.sm.cn',
      'www.sogou.com',
      'duckduckgo.com',
    ]) {
      expect(channelOf(undefined, host, 'shop.com'), host).toBe('search');
    }
  });

  it('recognizes social sites, including Chinese ones', () => {
    for (const host of [
      'weibo.com',
      'm.weibo.cn',
      'mp.weixin.qq.com',
      'www.douyin.com',
      'www.facebook.com',
      'l.facebook.com',
      'x.com',
      't.co',
      'twitter.com',
      'www.xiaohongshu.com',
    ]) {
      expect(channelOf(undefined, host, 'shop.com'), host).toBe('social');
    }
  });
});
