import { pageKey } from '../browser/page.js';
import type { Props } from '../types.js';

interface Page {
  key: string;
  url: string;
  path: string;
  title: string;
  referrer: string;
  start: number;
}

export interface NavigationOptions {
  /** Follow SPA route changes (history API, popstate, hashchange). */
  spa: boolean;
  pageleave: boolean;
  /** Report the deepest scroll on page leave. */
  scroll: boolean;
  /** Wait for a route change to settle: routers redirect with replaceState and set the title later. */
  settleMs: number;
}

type Emit = (event: string, props: Props) => void;

/**
 * Page views and page leaves, one per real navigation. History calls, popstate and
 * hashchange only schedule a check; the check emits when the page key differs from the
 * current page, so push+replace redirects, popstate+hashchange pairs and same-URL
 * replaceState calls never duplicate a view.
 */
export class Navigation {
  private page: Page | undefined;
  private depth = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly emit: Emit,
    private readonly o: NavigationOptions,
    private readonly onView: () => Props,
  ) {}

  /** Referrer of the current page: the previous in-app URL after a SPA navigation. */
  get referrer(): string {
    return this.page?.referrer ?? document.referrer;
  }

  start(): void {
    this.view();
    if (this.o.scroll) addEventListener('scroll', () => this.trackScroll(), { passive: true });
    addEventListener('pageshow', (e) => {
      if (e.persisted) this.view();
    });
    if (!this.o.spa) return;
    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method];
      history[method] = (...args: Parameters<History['pushState']>) => {
        original.apply(history, args);
        this.schedule();
      };
    }
    addEventListener('popstate', () => this.schedule());
    addEventListener('hashchange', () => this.schedule());
  }

  /** Emits a page view for the current URL (leaving the previous page first). */
  view(props?: Props): void {
    const previous = this.page;
    if (previous) this.leave();
    this.page = {
      key: pageKey(location),
      url: location.href,
      path: location.pathname,
      title: document.title.slice(0, 255),
      referrer: previous ? previous.url : document.referrer,
      start: Date.now(),
    };
    this.depth = 0;
    this.emit('$pageview', { $referrer: this.page.referrer, ...this.onView(), ...props });
  }

  /** `$pageleave` for the current page, once (the SDK calls it on pagehide too): time on page, deepest scroll. */
  leave(): void {
    const p = this.page;
    if (!p || p.start < 0) return;
    if (this.o.pageleave) {
      const props: Props = {
        $url: p.url,
        $path: p.path,
        $title: p.title,
        $referrer: p.referrer,
        $duration_ms: Date.now() - p.start,
      };
      if (this.o.scroll) {
        this.trackScroll();
        props.$scroll_depth = this.depth;
        props.$vh = innerHeight;
        props.$dh = document.documentElement.scrollHeight;
      }
      this.emit('$pageleave', props);
    }
    p.start = -1;
  }

  private schedule(): void {
    // Measure now: by the time the route settles the new page is on screen.
    if (this.o.scroll) this.trackScroll();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (pageKey(location) !== this.page?.key) this.view();
    }, this.o.settleMs);
  }

  /** Deepest point seen, as a percentage of the document height. */
  private trackScroll(): void {
    const h = document.documentElement.scrollHeight;
    const d = h ? Math.min(100, Math.round(((scrollY + innerHeight) / h) * 100)) : 100;
    if (d > this.depth) this.depth = d;
  }
}
