import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildBundles, launchChromium, startSite } from '../test/browser/harness.js';

const CLICKS = 1000;

/**
 * Benchmark, not a test (`npm run bench:click -w sdk-web`; never part of `npm test`).
 * Per-click capture cost in the browser: time to dispatch synthetic clicks on a nested
 * list with auto-capture on, minus the same with auto-capture off. The sends go to a port
 * nobody listens on; only the synchronous work on the click path is measured.
 */
describe('per-click capture cost', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof startSite>>;

  beforeAll(async () => {
    await buildBundles();
    site = await startSite({});
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  const measure = async (autocapture: boolean): Promise<{ min: number; median: number }> => {
    site.init = { host: 'http://127.0.0.1:9', writeKey: 'wk_perf', autocapture, maxQueue: 5000 };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/perf.html`);
    const runs = await page.evaluate((n) => {
      const buttons = [...document.querySelectorAll('button')];
      const run = (count: number) => {
        const t0 = performance.now();
        for (let i = 0; i < count; i++) {
          const b = buttons[i % buttons.length];
          const r = b.getBoundingClientRect();
          b.dispatchEvent(
            new MouseEvent('click', {
              bubbles: true,
              cancelable: true,
              view: window,
              clientX: r.left + 3,
              clientY: r.top + 3,
            }),
          );
        }
        return ((performance.now() - t0) / count) * 1000;
      };
      run(200);
      return Array.from({ length: 5 }, () => run(n)).sort((a, b) => a - b);
    }, CLICKS);
    await context.close();
    return { min: runs[0], median: runs[2] };
  };

  it(`measures 5 runs × ${CLICKS} clicks with and without auto-capture`, async () => {
    const off = await measure(false);
    const on = await measure(true);
    const µs = (v: number) => `${v.toFixed(1)} µs`;
    // The minimum is the least disturbed by other load on the machine; the median shows the spread.
    console.log(
      `per-click capture cost: min ${µs(on.min - off.min)}, median ${µs(on.median - off.median)} ` +
        `(with auto-capture ${µs(on.min)}/${µs(on.median)}, without ${µs(off.min)}/${µs(off.median)})`,
    );
  });
});
