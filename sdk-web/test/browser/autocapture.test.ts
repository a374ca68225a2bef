import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundles,
  type Collector,
  launchChromium,
  startCollector,
  startSite,
  type TimelineEvent,
} from './harness.js';

/** Real Chromium, real Weft server: what a site's visitors do must show up exactly in the timeline. */
describe('auto-capture in Chromium against a Weft server', () => {
  let browser: Browser;
  let collector: Collector;
  let site: Awaited<ReturnType<typeof startSite>>;

  beforeAll(async () => {
    await buildBundles();
    collector = await startCollector();
    site = await startSite({
      host: collector.url,
      writeKey: collector.writeKey,
      flushIntervalMs: 200,
      settleMs: 50,
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await collector?.close();
  });

  const open = async (path: string): Promise<{ context: BrowserContext; page: Page; id: string }> => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    const page = await context.newPage();
    await page.goto(site.origin + path);
    const id = await page.evaluate(() => window.weft.getDistinctId());
    return { context, page, id };
  };

  const names = (t: TimelineEvent[]) => t.map((e) => e.event);
  /**
   * Names without `$pageleave`. A full-page navigation sends its `$pageleave` by beacon in a batch
   * of its own, and the server's clock-skew fix adds that batch's transit time, so on a busy machine
   * it can land a few ms after the next page's `$pageview`. Tests check those leaves apart.
   */
  const withoutLeaves = (t: TimelineEvent[]) => names(t).filter((n) => n !== '$pageleave');
  const of = (t: TimelineEvent[], event: string) => t.filter((e) => e.event === event);

  it('plain pages: clicks, form, link navigation, reload and tab close', async () => {
    const { context, page, id } = await open('/plain.html');
    await page.click('#cta');
    await page.click('#menu');
    await page.click('#ignored');
    await page.fill('#email', 'jane@example.com');
    await page.press('#email', 'Tab');
    await page.fill('#pw', 'hunter2-secret');
    await page.press('#pw', 'Tab');
    await page.click('#send');
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForTimeout(100);
    await page.click('#next');
    await page.waitForURL('**/plain2.html');
    await page.reload();
    await page.close();
    await context.close();

    const t = await collector.settled(id, 12);
    expect(withoutLeaves(t)).toEqual([
      '$pageview',
      '$click',
      '$click',
      '$change',
      '$click',
      '$submit',
      '$click',
      '$pageview',
      '$pageview',
    ]);
    expect(of(t, '$pageleave').map((e) => e.properties.$path)).toEqual([
      '/plain.html',
      '/plain2.html',
      '/plain2.html',
    ]);
    const [cta, menu, send, next] = of(t, '$click').map((e) => e.properties);
    expect(cta).toMatchObject({
      $el_tag: 'button',
      $el_id: 'cta',
      $el_classes: 'btn btn-primary',
      $el_text: 'Sign up',
    });
    expect(cta).toMatchObject({ $vw: 1024, $vh: 700, $fixed: false, $path: '/plain.html', $title: 'Plain' });
    expect(Number(cta.$dh)).toBeGreaterThan(3000);
    for (const k of ['$ox', '$oy']) expect(Number(cta[k])).toBeGreaterThanOrEqual(0);
    expect(menu).toMatchObject({ $el_id: 'menu', $fixed: true });
    expect(send).toMatchObject({ $el_id: 'send', $el_text: 'Send' });
    expect(next).toMatchObject({ $el_tag: 'a', $el_href: `${site.origin}/plain2.html` });
    expect(of(t, '$change')[0].properties).toMatchObject({ $el_name: 'email', $el_tag: 'input' });
    expect(of(t, '$submit')[0].properties).toMatchObject({ $el_id: 'signup' });
    const [leavePlain, leaveReload] = of(t, '$pageleave').map((e) => e.properties);
    expect(leavePlain).toMatchObject({ $path: '/plain.html', $scroll_depth: 100 });
    expect(Number(leavePlain.$duration_ms)).toBeGreaterThan(0);
    expect(leaveReload).toMatchObject({ $path: '/plain2.html' });
    expect(of(t, '$pageview')[1].properties).toMatchObject({
      $path: '/plain2.html',
      $referrer: `${site.origin}/plain.html`,
    });
    expect(JSON.stringify(t)).not.toMatch(/jane@example\.com|hunter2/);
    expect(site.requests).not.toContain('/weft-define.js');
  });

  it('SPA: one view per route change, none for redirects, state updates or anchors', async () => {
    const { context, page, id } = await open('/spa/');
    await page.click('#products');
    await page.waitForTimeout(150);
    await page.click('#old');
    await page.waitForTimeout(150);
    await page.click('#anchor');
    await page.waitForTimeout(150);
    await page.goBack();
    await page.waitForTimeout(150);
    await page.goBack();
    await page.waitForTimeout(150);
    await page.click('#about');
    await page.waitForTimeout(150);
    await page.close();
    await context.close();

    const t = await collector.settled(id, 14);
    const views = of(t, '$pageview').map((e) => e.properties.$path);
    expect(views).toEqual(['/spa/', '/spa/products', '/spa/new', '/spa/products', '/spa/about']);
    expect(names(t)).toEqual([
      '$pageview',
      '$click',
      '$pageleave',
      '$pageview',
      '$click',
      '$pageleave',
      '$pageview',
      '$click',
      '$pageleave',
      '$pageview',
      '$click',
      '$pageleave',
      '$pageview',
      '$pageleave',
    ]);
    expect(of(t, '$pageview')[2].properties).toMatchObject({
      $title: 'New',
      $referrer: `${site.origin}/spa/products`,
    });
    expect(of(t, '$pageleave').map((e) => e.properties.$path)).toEqual([
      '/spa/',
      '/spa/products',
      '/spa/new',
      '/spa/products',
      '/spa/about',
    ]);
  });

  it('hashed class names: identity is the same after every reload', async () => {
    const { context, page, id } = await open('/hashed.html');
    const clickAll = async () => {
      for (let i = 0; i < 3; i++) await page.click(`li:nth-child(${i + 1}) button`);
      await page.click('section button');
    };
    await clickAll();
    await page.reload();
    await clickAll();
    await page.close();
    await context.close();

    const t = await collector.settled(id, 12);
    const load = ['$pageview', '$click', '$click', '$click', '$click'];
    expect(withoutLeaves(t)).toEqual([...load, ...load]);
    expect(of(t, '$pageleave')).toHaveLength(2);
    const clicks = of(t, '$click').map((e) => e.properties);
    const identity = (p: Record<string, unknown>) =>
      [p.$el_selector, p.$el_path, p.$el_classes, p.$el_index, p.$el_text, p.$el_anchor].join('|');
    expect(clicks.slice(4).map(identity)).toEqual(clicks.slice(0, 4).map(identity));
    expect(clicks[0]).toMatchObject({
      $el_selector: 'div#root > ul.List_list > li.List_item > button.Button_primary',
      $el_classes: 'Button_primary',
      $el_path: 'html>body>div>ul>li>button',
      $el_index: 0,
    });
    expect(clicks.slice(0, 3).map((c) => c.$el_index)).toEqual([0, 1, 2]);
    expect(clicks[3]).toMatchObject({
      $el_selector: '[data-weft-id="promo"] > span > button',
      $el_anchor: 'promo',
      $el_text: 'Promo',
    });
  });

  it('identify: what the browser sent before belongs to the user afterwards', async () => {
    const { context, page, id: anon } = await open('/plain.html');
    const user = `user-${Date.now()}`;
    await page.click('#cta');
    await page.evaluate((u) => window.weft.identify(u, { plan: 'pro' }), user);
    await page.click('#menu');
    expect(await page.evaluate(() => window.weft.getDistinctId())).toBe(user);
    await page.close();
    await context.close();

    const t = await collector.settled(user, 5);
    expect(names(t)).toEqual(['$pageview', '$click', '$identify', '$click', '$pageleave']);
    expect(of(t, '$identify')[0].properties).toMatchObject({ $anon_distinct_id: anon });
  });

  it('offline then reload: the persisted queue is delivered once, rage clicks flagged', async () => {
    const { context, page, id } = await open('/plain.html');
    await page.waitForTimeout(400);
    await context.setOffline(true);
    for (let i = 0; i < 3; i++) await page.click('#cta', { position: { x: 10 + i, y: 5 } });
    await page.waitForTimeout(400);
    await page.reload().catch(() => undefined);
    await context.setOffline(false);
    await page.reload();
    await page.waitForTimeout(300);
    await page.close();
    await context.close();

    // The reload while offline shows an error page: that load has no SDK and no page view.
    const t = await collector.settled(id, 7);
    expect(withoutLeaves(t)).toEqual(['$pageview', '$click', '$click', '$click', '$pageview']);
    expect(of(t, '$pageleave')).toHaveLength(2);
    expect(of(t, '$click').map((e) => e.properties.$rage ?? false)).toEqual([false, false, true]);
  });

  it('two tabs never send the same events', async () => {
    const context = await browser.newContext();
    const sentBy = new Map<string, string>();
    let dupes = 0;
    const watch = (page: Page, tab: string) =>
      page.on('request', (r) => {
        if (!r.url().endsWith('/v1/batch') || r.resourceType() === 'ping') return;
        for (const e of (JSON.parse(r.postData() ?? '{}').events ?? []) as { event_id: string }[]) {
          if (sentBy.has(e.event_id) && sentBy.get(e.event_id) !== tab) dupes++;
          sentBy.set(e.event_id, tab);
        }
      });
    const a = await context.newPage();
    const b = await context.newPage();
    watch(a, 'a');
    watch(b, 'b');
    await a.goto(`${site.origin}/plain.html`);
    await b.goto(`${site.origin}/plain.html`);
    for (let i = 0; i < 5; i++) {
      await a.click('#cta');
      await b.click('#menu');
      await a.waitForTimeout(300);
    }
    await a.waitForTimeout(600);
    // While both tabs live, each event went out from one tab only.
    expect(dupes).toBe(0);
    expect(sentBy.size).toBe(12);
    await a.reload();
    await b.reload();
    await a.waitForTimeout(600);
    const id = await a.evaluate(() => window.weft.getDistinctId());
    await context.close();
    const t = await collector.settled(id, 18);
    expect(of(t, '$click')).toHaveLength(10);
    expect(of(t, '$pageview')).toHaveLength(4);
    expect(of(t, '$pageleave')).toHaveLength(4);
  });
});
