// @vitest-environment happy-dom
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Navigation } from '../src/autocapture/navigation.js';
import type { Props } from '../src/types.js';
import { sleep } from './helpers.js';

const SETTLE = 15;
const seen: { event: string; props: Props }[] = [];
const views = () =>
  seen.filter((e) => e.event === '$pageview').map((e) => new URL(String(e.props.$url ?? location.href)));
const settle = () => sleep(SETTLE * 3);

beforeAll(() => {
  (window as unknown as { happyDOM: { setURL(u: string): void } }).happyDOM.setURL('https://shop.example/');
  const nav = new Navigation(
    (event, props) => seen.push({ event, props: { $url: location.href, ...props } }),
    { spa: true, pageleave: true, scroll: true, settleMs: SETTLE },
    () => ({}),
  );
  nav.start();
});

beforeEach(async () => {
  await settle();
  seen.length = 0;
});

describe('SPA page views', () => {
  it('one view per pushState navigation, with a leave for the previous page', async () => {
    history.pushState({}, '', '/a');
    await settle();
    expect(seen.map((e) => e.event)).toEqual(['$pageleave', '$pageview']);
    expect(seen[0].props.$url).toBe('https://shop.example/');
    expect(typeof seen[0].props.$duration_ms).toBe('number');
    expect(seen[1].props.$referrer).toBe('https://shop.example/');
    expect(views().map((u) => u.pathname)).toEqual(['/a']);
  });

  it('no view for replaceState on the same URL (state updates, scroll restoration)', async () => {
    history.replaceState({ scroll: 10 }, '');
    history.replaceState({ scroll: 20 }, '', location.href);
    await settle();
    expect(seen).toEqual([]);
  });

  it('a push followed by a redirecting replace is one view of the final URL', async () => {
    history.pushState({}, '', '/account');
    history.replaceState({}, '', '/login?next=/account');
    await settle();
    expect(views().map((u) => u.pathname + u.search)).toEqual(['/login?next=/account']);
  });

  it('popstate and hashchange for one back navigation make one view', async () => {
    history.pushState({}, '', '/b');
    await settle();
    seen.length = 0;
    history.replaceState({}, '', '/c');
    window.dispatchEvent(new PopStateEvent('popstate'));
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await settle();
    expect(views().map((u) => u.pathname)).toEqual(['/c']);
  });

  it('in-page anchors are not navigations; hash routes are', async () => {
    history.pushState({}, '', '#section-2');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await settle();
    expect(seen).toEqual([]);
    history.pushState({}, '', '#/settings');
    await settle();
    expect(views().map((u) => u.hash)).toEqual(['#/settings']);
  });

  it('a real change after many no-op history calls still counts once', async () => {
    for (let i = 0; i < 20; i++) history.replaceState({ i }, '');
    history.pushState({}, '', '/d');
    history.pushState({}, '', '/d');
    await settle();
    expect(views().map((u) => u.pathname)).toEqual(['/d']);
  });
});
