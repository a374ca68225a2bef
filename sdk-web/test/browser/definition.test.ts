import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundles,
  type Collector,
  launchChromium,
  startCollector,
  startDashboard,
  startSite,
} from './harness.js';

interface Received {
  origin: string;
  data: { type: string; element?: Record<string, unknown>; url?: string };
}

/**
 * Visual definition, client side: the dashboard opens the site with the URL flag; the
 * lazily loaded mode highlights on hover and returns the identity a `$click` would carry;
 * a definition stored from that identity counts the clicks made before it existed.
 */
describe('visual definition mode in Chromium', () => {
  let browser: Browser;
  let collector: Collector;
  let site: Awaited<ReturnType<typeof startSite>>;
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;

  beforeAll(async () => {
    await buildBundles();
    collector = await startCollector();
    site = await startSite({});
    dashboard = await startDashboard(`${site.origin}/plain.html?weft_define=1`);
    site.init = {
      host: collector.url,
      writeKey: collector.writeKey,
      flushIntervalMs: 100,
      definition: { origins: [dashboard.origin] },
    };
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await site?.close();
    await collector?.close();
  });

  it('loads lazily, highlights on hover, and a click returns identity instead of navigating', async () => {
    const context = await browser.newContext();
    const dash = await context.newPage();
    await dash.goto(dashboard.origin);
    const [page] = await Promise.all([context.waitForEvent('page'), dash.evaluate(() => window.openSite())]);
    await page.waitForLoadState();
    await dash.waitForFunction(() =>
      (window.received as Received[]).some((m) => m.data.type === 'weft:define-ready'),
    );
    expect(site.requests.filter((r) => r === '/weft-define.js')).toHaveLength(1);

    await page.hover('#next');
    const box = await page.evaluate(() => {
      const r = document.getElementById('next')!.getBoundingClientRect();
      const outline = [...document.querySelectorAll('body > div')].find((d) =>
        (d as HTMLElement).style.border.includes('solid'),
      ) as HTMLElement;
      return { left: parseFloat(outline.style.left), width: parseFloat(outline.style.width), r: r.toJSON() };
    });
    expect(box.left).toBeCloseTo(box.r.left, 1);
    expect(box.width).toBeCloseTo(box.r.width, 1);

    await page.click('#next');
    await page.click('#cta');
    await dash.waitForFunction(
      () => (window.received as Received[]).filter((m) => m.data.type === 'weft:element').length === 2,
    );
    expect(page.url()).toContain('/plain.html');
    const picked = (await dash.evaluate(() => window.received as Received[])).filter(
      (m) => m.data.type === 'weft:element',
    );
    expect(picked.every((m) => m.origin === site.origin)).toBe(true);
    expect(picked[0].data.element).toMatchObject({
      $el_tag: 'a',
      $el_id: 'next',
      $el_selector: 'a#next',
      $el_href: `${site.origin}/plain2.html`,
      $path: '/plain.html',
    });
    expect(picked[1].data.element).toMatchObject({
      $el_id: 'cta',
      $el_text: 'Sign up',
      $el_selector: 'button#cta',
    });

    // Leaving the mode: clicks are the site's again and are captured as usual.
    await page.keyboard.press('Escape');
    const id = await page.evaluate(() => window.weft.getDistinctId());
    await page.click('#cta');
    await page.close();
    const t = await collector.settled(id, 3);
    expect(t.map((e) => e.event)).toEqual(['$pageview', '$click', '$pageleave']);
    // The same identity: a definition built from the pick matches this click.
    expect(t[1].properties.$el_selector).toBe(picked[1].data.element?.$el_selector);
    await context.close();
  });

  it('stores a definition from a pick that counts the clicks made before it existed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/plain.html`);
    const id = await page.evaluate(() => window.weft.getDistinctId());
    for (let i = 0; i < 3; i++) await page.click('#cta');
    await page.close();
    await collector.settled(id, 5);

    const dash = await context.newPage();
    await dash.goto(dashboard.origin);
    const [picker] = await Promise.all([
      context.waitForEvent('page'),
      dash.evaluate(() => window.openSite()),
    ]);
    await picker.waitForLoadState();
    await dash.waitForFunction(() =>
      (window.received as Received[]).some((m) => m.data.type === 'weft:define-ready'),
    );
    await picker.click('#cta');
    await dash.waitForFunction(() =>
      (window.received as Received[]).some((m) => m.data.type === 'weft:element'),
    );
    const element = (await dash.evaluate(() => window.received as Received[])).find(
      (m) => m.data.type === 'weft:element',
    )!.data.element!;
    await context.close();

    const api = (path: string, body: unknown) =>
      fetch(`${collector.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${collector.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await api('/v1/definitions', {
      name: 'Signup CTA',
      where: [
        { prop: '$el_selector', value: element.$el_selector },
        { prop: '$path', value: element.$path },
      ],
    });
    expect(created.status).toBe(201);
    const res = await api('/v1/query/events', {
      events: [{ event: 'Signup CTA' }],
      metric: 'count',
      from: '2000-01-01',
      to: '2100-01-01',
      interval: 'month',
      segment: [id],
    });
    expect(((await res.json()) as { series: Array<{ total: number }> }).series[0]!.total).toBe(3);
  });

  it('ignores definition messages from origins that are not allowed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const before = site.requests.length;
    await page.goto(`${site.origin}/plain.html`);
    await page.evaluate(() => window.postMessage({ type: 'weft:define' }, '*'));
    await page.waitForTimeout(300);
    expect(site.requests.slice(before)).not.toContain('/weft-define.js');
    await context.close();
  });
});

declare global {
  interface Window {
    received: unknown[];
    openSite(): void;
  }
}
