import type { Properties } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { enrich } from '../../src/normalize/enrich.js';

describe('enrich', () => {
  it('adds ip and user agent when absent', () => {
    const props: Properties = {};
    enrich(props, '1.2.3.4', 'UA/1', 8192);
    expect(props).toEqual({ $ip: '1.2.3.4', $user_agent: 'UA/1' });
  });

  it('never overwrites what the event carries', () => {
    const props: Properties = {
      $ip: 'client',
      $user_agent: 'client-ua',
      $url: 'https://shop.com/?utm_source=a&utm_medium=cpc',
      $utm_source: 'mine',
      $referrer: 'https://www.google.com/',
      $referring_domain: 'mine.com',
      $channel: 'email',
    };
    enrich(props, '1.2.3.4', 'UA/1', 8192);
    expect(props).toEqual({
      $ip: 'client',
      $user_agent: 'client-ua',
      $url: 'https://shop.com/?utm_source=a&utm_medium=cpc',
      $utm_source: 'mine',
      $utm_medium: 'cpc',
      $referrer: 'https://www.google.com/',
      $referring_domain: 'mine.com',
      $channel: 'email',
    });
  });

  it('derives UTM parameters, referring domain and channel from $url and $referrer', () => {
    const props: Properties = {
      $url: 'https://shop.com/landing?utm_source=baidu&utm_medium=cpc&utm_campaign=618',
      $referrer: 'https://www.baidu.com/s?wd=shoes',
    };
    enrich(props, undefined, undefined, 8192);
    expect(props).toMatchObject({
      $utm_source: 'baidu',
      $utm_medium: 'cpc',
      $utm_campaign: '618',
      $referring_domain: 'www.baidu.com',
      $channel: 'paid',
    });
  });

  it('classifies by referrer without UTM, internal navigation and direct visits', () => {
    const search: Properties = { $url: 'https://shop.com/', $referrer: 'https://www.google.de/' };
    const internal: Properties = { $url: 'https://shop.com/b', $referrer: 'https://shop.com/a' };
    const direct: Properties = { $url: 'https://shop.com/', $referrer: '' };
    for (const props of [search, internal, direct]) enrich(props, undefined, undefined, 8192);
    expect(search.$channel).toBe('search');
    expect(internal.$channel).toBe('internal');
    expect(direct.$channel).toBe('direct');
    expect(direct.$referring_domain).toBeUndefined();
  });

  it('leaves events without a page URL or referrer without a channel', () => {
    const props: Properties = { plan: 'pro' };
    enrich(props, undefined, undefined, 8192);
    expect(props).toEqual({ plan: 'pro' });
  });

  it('truncates an overlong user agent to the value limit', () => {
    const props: Properties = {};
    enrich(props, undefined, 'u'.repeat(50), 10);
    expect(props.$user_agent).toBe('u'.repeat(10));
  });
});
