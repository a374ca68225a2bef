import { captureClicks, interactiveAncestor } from '../autocapture/clicks.js';
import { describeElement } from '../autocapture/element.js';
import { captureForms } from '../autocapture/forms.js';
import { Navigation } from '../autocapture/navigation.js';
import { Client, type ClientOptions } from '../client.js';
import { watchDefinition } from '../definition/loader.js';
import { memoryStore, webStore } from '../storage.js';
import type { Props } from '../types.js';
import { campaignProps, pageContext, referringDomain } from './page.js';
import { fetchPost, sendOnUnload } from './transport.js';

export interface AutocaptureOptions {
  /** `$pageview` on load (and `$pageleave` if enabled). */
  pageviews: boolean;
  /** Follow SPA route changes. */
  spa: boolean;
  pageleave: boolean;
  /** `$scroll_depth` on page leave. */
  scroll: boolean;
  /** `true`: interactive elements; `'all'`: every click (denser heatmaps). */
  clicks: boolean | 'all';
  /** Flag rage clicks with `$rage`. */
  rage: boolean;
  /** `$submit` and `$change` (never values). */
  forms: boolean;
  /** UTM and click-id parameters on page views, first-touch referrer and campaign as `$set_once`. */
  campaign: boolean;
}

export interface WeftOptions extends ClientOptions {
  /** Collector base URL, e.g. `https://weft.example.com`. */
  host: string;
  /** `false` turns all auto-capture off; an object switches parts. */
  autocapture?: boolean | Partial<AutocaptureOptions>;
  /** Never capture element text (element identity and position only). */
  maskAllText?: boolean;
  /** `'memory'` keeps ids and queue for the page's lifetime only (no storage). */
  persistence?: 'localStorage' | 'memory';
  /** Treat `navigator.doNotTrack === '1'` as opted out until `optIn()`. */
  respectDnt?: boolean;
  /** Milliseconds a SPA route change settles before its page view (default 100). */
  settleMs?: number;
  /** Visual definition mode; `false` disables it. */
  definition?:
    | false
    | {
        /** Dashboard origins allowed to open it (default: the host's origin). */
        origins?: string[];
        /** URL of `weft-define.js` (default: next to `weft.min.js`). */
        script?: string;
        /** Receives each picked element (as well as the dashboard). */
        onPick?: (element: Props) => void;
      };
}

const ALL: AutocaptureOptions = {
  pageviews: true,
  spa: true,
  pageleave: true,
  scroll: true,
  clicks: true,
  rage: true,
  forms: true,
  campaign: true,
};

export interface Weft {
  init(options: WeftOptions): void;
  track(event: string, properties?: Props): void;
  identify(userId: string, set?: Props, setOnce?: Props): void;
  alias(alias: string): void;
  reset(): void;
  page(properties?: Props): void;
  register(properties: Props): void;
  registerOnce(properties: Props): void;
  unregister(name: string): void;
  optOut(): void;
  optIn(): void;
  hasOptedOut(): boolean;
  flush(): Promise<void>;
  getDistinctId(): string;
  getAnonymousId(): string;
  getSessionId(): string;
  /** Opens visual definition mode programmatically. */
  define(): Promise<void>;
}

/** A browser SDK instance. Calls made before `init` are kept and replayed by it. */
export function createWeft(defaults: { definitionScript?: string } = {}): Weft {
  let client: Client | undefined;
  let nav: Navigation | undefined;
  let paused = false;
  let openDefinition: (() => Promise<void>) | undefined;
  const early: ((c: Client) => void)[] = [];

  const later =
    <A extends unknown[]>(fn: (c: Client, ...a: A) => void) =>
    (...a: A) =>
      client ? fn(client, ...a) : void early.push((c) => fn(c, ...a));

  const init = (o: WeftOptions) => {
    if (client) return;
    const host = o.host.replace(/\/+$/, '');
    const url = `${host}/v1/batch`;
    const auto: AutocaptureOptions =
      o.autocapture === false
        ? { ...ALL, pageviews: false, clicks: false, forms: false }
        : { ...ALL, ...(o.autocapture === true ? {} : o.autocapture) };
    const dnt = !!o.respectDnt && navigator.doNotTrack === '1';
    const store = o.persistence === 'memory' ? memoryStore() : webStore(() => localStorage);
    const c = new Client({ ...o, optOutByDefault: o.optOutByDefault || dnt }, store, fetchPost(url), () =>
      pageContext(nav?.referrer ?? document.referrer),
    );
    client = c;
    // Calls made before init (super properties, identify) apply to the first page view too.
    for (const f of early.splice(0)) f(c);

    const emit = (event: string, props: Props) => {
      if (paused) return;
      const firstTouch = event === '$pageview' && auto.campaign && c.once('ft');
      c.capture(event, props, firstTouch ? { $set_once: initialProps(props) } : undefined);
    };

    // Pick up what closed, reloaded or crashed pages of this site left unsent, now and on every heartbeat.
    const adopt = () => void c.queue.adopt().then((n) => n && c.sender.notify());
    adopt();
    setInterval(
      () => {
        c.queue.renew();
        adopt();
      },
      (o.leaseMs ?? 180_000) / 3,
    );
    addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') {
        c.queue.persist();
        void c.sender.flush();
      } else c.queue.renew();
    });
    addEventListener('pagehide', () => {
      nav?.leave();
      sendOnUnload(url, o.writeKey, c.queue);
      c.queue.close();
    });

    if (auto.pageviews) {
      nav = new Navigation(
        emit,
        { spa: auto.spa, pageleave: auto.pageleave, scroll: auto.scroll, settleMs: o.settleMs ?? 100 },
        () => ({
          $vw: innerWidth,
          $vh: innerHeight,
          ...(auto.campaign ? campaignProps(location.search) : {}),
        }),
      );
      nav.start();
    }
    const isPaused = () => paused;
    if (auto.clicks)
      captureClicks(
        emit,
        { all: auto.clicks === 'all', rage: auto.rage, maskAllText: !!o.maskAllText },
        isPaused,
      );
    if (auto.forms) captureForms(emit, isPaused);
    if (o.definition !== false) {
      const d = o.definition ?? {};
      openDefinition = watchDefinition({
        origins: d.origins ?? [new URL(host, location.href).origin],
        script: d.script ?? defaults.definitionScript ?? `${host}/weft-define.js`,
        resolve: (t) => interactiveAncestor(t) ?? t,
        describe: (el) => ({
          ...describeElement(el, { text: true, maskAllText: !!o.maskAllText }),
          $path: location.pathname,
        }),
        onPick: d.onPick,
        setPaused: (p) => {
          paused = p;
        },
      });
    }
  };

  return {
    init,
    track: later((c, event: string, props?: Props) => void c.capture(event, props)),
    identify: later((c, id: string, set?: Props, setOnce?: Props) => c.identify(id, set, setOnce)),
    alias: later((c, alias: string) => c.alias(alias)),
    reset: later((c) => c.reset()),
    page: later((c, props?: Props) => (nav ? nav.view(props) : void c.capture('$pageview', props))),
    register: later((c, props: Props) => c.register(props)),
    registerOnce: later((c, props: Props) => c.register(props, true)),
    unregister: later((c, name: string) => c.unregister(name)),
    optOut: later((c) => c.setOptOut(true)),
    optIn: later((c) => c.setOptOut(false)),
    hasOptedOut: () => client?.optedOut() ?? false,
    flush: () => client?.sender.flush() ?? Promise.resolve(),
    getDistinctId: () => client?.distinctId ?? '',
    getAnonymousId: () => client?.anonymousId ?? '',
    getSessionId: () => client?.sessionId ?? '',
    define: () => openDefinition?.() ?? Promise.resolve(),
  };
}

/** First-touch attribution, kept on the profile by `$set_once`. */
function initialProps(pageview: Props): Props {
  const referrer = String(pageview.$referrer ?? '');
  const p: Props = { $initial_referrer: referrer, $initial_referring_domain: referringDomain(referrer) };
  for (const k in pageview) if (k.startsWith('$utm_')) p[`$initial_${k.slice(1)}`] = pageview[k];
  return p;
}
