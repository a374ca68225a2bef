import type { Properties } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { addUtmParams, brandOf, hostOf, siteOf } from '../../src/normalize/url.js';

describe('hostOf', () => {
  it('extracts the lower-case host without port, user info, path, query or hash', () => {
    expect(hostOf('https://www.Google.com/search?q=x')).toBe('www.google.com');
    expect(hostOf('http://user:pw@example.com:8080/a')).toBe('example.com');
    expect(hostOf('https://example.com?x=1')).toBe('example.com');
    expect(hostOf('https://example.com#top')).toBe('example.com');
    expect(hostOf('//cdn.example.com/x.js')).toBe('cdn.example.com');
    expect(hostOf('http://[::1]:3000/')).toBe('[::1]');
    expect(hostOf('https://a.com/path@b.com')).toBe('a.com');
  });

  it('returns undefined for relative or empty URLs', () => {
    expect(hostOf('')).toBeUndefined();
    expect(hostOf('/path/only')).toBeUndefined();
    expect(hostOf('https:///x')).toBeUndefined();
  });
});

describe('brandOf and siteOf', () => {
  it('find the label naming the site and the registrable domain', () => {
    expect(brandOf('www.google.co.uk')).toBe('google');
    expect(brandOf('m.baidu.com')).toBe('baidu');
    expect(brandOf('x.com')).toBe('x');
    expect(brandOf('localhost')).toBe('localhost');
    expect(siteOf('shop.example.co.uk')).toBe('example.co.uk');
    expect(siteOf('www.example.com')).toBe('example.com');
    expect(siteOf('192.168.1.10')).toBe('192.168.1.10');
  });
});

describe('addUtmParams', () => {
  it('copies the five UTM parameters, decoded, and keeps values already present', () => {
    const props: Properties = { $utm_term: 'kept' };
    addUtmParams(
      props,
      'https://e.com/p?a=1&utm_source=news%20letter&utm_medium=email&utm_campaign=spring+sale&utm_term=t&utm_content=c&utm_other=o#utm_source=hash',
    );
    expect(props).toEqual({
      $utm_source: 'news letter',
      $utm_medium: 'email',
      $utm_campaign: 'spring sale',
      $utm_term: 'kept',
      $utm_content: 'c',
    });
  });

  it('ignores empty values and survives malformed escapes', () => {
    const props: Properties = {};
    addUtmParams(props, 'https://e.com/?utm_source=&utm_medium=%E0%A4%A&utm_campaign');
    expect(props).toEqual({ $utm_medium: '%E0%A4%A' });
  });
});
