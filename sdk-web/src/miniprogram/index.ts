import { LIB_VERSION } from '../browser/page.js';
import { Client, type ClientOptions } from '../client.js';
import type { Props } from '../types.js';
import { type Wx, wxPost, wxStore } from './wx.js';

export type { Wx } from './wx.js';

export interface MiniOptions extends ClientOptions {
  host: string;
  wx: Wx;
  /** Defaults to the global `getCurrentPages`, for the route of events outside pages. */
  getCurrentPages?: () => { route?: string }[];
  /** `$app_*`, `$pageview` and `$pageleave` from lifecycles (default true). */
  lifecycle?: boolean;
  /** `$click` for tap and longpress handlers (default true). */
  taps?: boolean;
}

type Options = Record<string, unknown>;
type Fn = (this: unknown, ...args: unknown[]) => unknown;

interface TapEvent {
  type: string;
  detail?: { x?: number; y?: number };
  currentTarget?: { id?: string; dataset?: Record<string, unknown> };
}

export interface MiniWeft {
  track(event: string, properties?: Props): void;
  identify(userId: string, set?: Props, setOnce?: Props): void;
  alias(alias: string): void;
  reset(): void;
  register(properties: Props): void;
  registerOnce(properties: Props): void;
  unregister(name: string): void;
  optOut(): void;
  optIn(): void;
  flush(): Promise<void>;
  getDistinctId(): string;
  /** Wraps `App({...})` options. */
  App<T extends Options>(options: T): T;
  /** Wraps `Page({...})` options. */
  Page<T extends Options>(options: T): T;
  /** Wraps `Component({...})` options (its `methods`). */
  Component<T extends Options>(options: T): T;
  /** Replaces the given global constructors so existing `App`/`Page`/`Component` calls are wrapped. */
  install(globals: {
    App?: (o: Options) => unknown;
    Page?: (o: Options) => unknown;
    Component?: (o: Options) => unknown;
  }): void;
}

const TAPS = new Set(['tap', 'longpress', 'longtap']);

/**
 * The mini-program adapter: the same client core (ids, sessions, persisted queue, backoff)
 * over `wx.request` and wx storage, with lifecycle and tap events taken from the
 * `App`/`Page`/`Component` options the app already declares.
 */
export function createMiniWeft(o: MiniOptions): MiniWeft {
  const pages =
    o.getCurrentPages ?? (globalThis as { getCurrentPages?: () => { route?: string }[] }).getCurrentPages;
  const route = () => {
    const stack = pages?.() ?? [];
    return stack[stack.length - 1]?.route ?? '';
  };
  const sys = o.wx.getSystemInfoSync?.() ?? {};
  const c = new Client(
    o,
    wxStore(o.wx),
    wxPost(o.wx, `${o.host.replace(/\/+$/, '')}/v1/batch`, o.writeKey),
    () => {
      const p: Props = { $lib: 'weft-miniprogram', $lib_version: LIB_VERSION, $path: route() };
      if (sys.platform) p.$platform = sys.platform;
      if (sys.windowWidth) p.$vw = sys.windowWidth;
      if (sys.windowHeight) p.$vh = sys.windowHeight;
      return p;
    },
  );
  void c.queue.adopt().then((n) => n && c.sender.notify());

  const lifecycle = o.lifecycle !== false;
  const taps = o.taps !== false;
  const shown = new WeakMap<object, { start: number; url: string }>();
  const queries = new WeakMap<object, string>();
  let lastRoute = '';

  const before = (options: Options, name: string, hook: (self: unknown, args: unknown[]) => void) => {
    const original = options[name] as Fn | undefined;
    options[name] = function (this: unknown, ...args: unknown[]) {
      hook(this, args);
      return original?.apply(this, args);
    };
  };

  /** Handlers receiving a tap event produce `$click`: which handler, which element, where. */
  const wrapHandlers = (fns: Options, pageRoute: (self: unknown) => string) => {
    for (const name of Object.keys(fns)) {
      if (typeof fns[name] !== 'function') continue;
      before(fns, name, (self, [e]) => {
        if (!taps || !isTap(e)) return;
        const data = e.currentTarget?.dataset ?? {};
        if (data.weftIgnore !== undefined) return;
        const p: Props = { $el_handler: name, $path: pageRoute(self) };
        if (e.currentTarget?.id) p.$el_id = e.currentTarget.id;
        if (typeof data.weftId === 'string') p.$el_anchor = data.weftId;
        if (typeof e.detail?.x === 'number') p.$x = Math.round(e.detail.x);
        if (typeof e.detail?.y === 'number') p.$y = Math.round(e.detail.y);
        c.capture('$click', p);
      });
    }
  };

  const leave = (self: object) => {
    const s = shown.get(self);
    if (!s) return;
    shown.delete(self);
    c.capture('$pageleave', { $path: routeOf(self), $url: s.url, $duration_ms: Date.now() - s.start });
  };

  const api: MiniWeft = {
    track: (event, props) => void c.capture(event, props),
    identify: (id, set, setOnce) => c.identify(id, set, setOnce),
    alias: (a) => c.alias(a),
    reset: () => c.reset(),
    register: (p) => c.register(p),
    registerOnce: (p) => c.register(p, true),
    unregister: (k) => c.unregister(k),
    optOut: () => c.setOptOut(true),
    optIn: () => c.setOptOut(false),
    flush: () => c.sender.flush(),
    getDistinctId: () => c.distinctId,

    App(options) {
      if (lifecycle) {
        before(options, 'onLaunch', (_s, [opts]) => c.capture('$app_launch', launchProps(opts)));
        before(options, 'onShow', (_s, [opts]) => c.capture('$app_show', launchProps(opts)));
        before(options, 'onHide', () => {
          c.capture('$app_hide');
          // The app may be killed in the background: send now, then let the next launch adopt the rest.
          void c.sender.flush().finally(() => c.queue.close());
        });
      }
      return options;
    },

    Page(options) {
      if (lifecycle) {
        before(options, 'onLoad', (self, [query]) => {
          if (isObject(self)) queries.set(self, queryString(query));
        });
        before(options, 'onShow', (self) => {
          if (!isObject(self)) return;
          const path = routeOf(self);
          const q = queries.get(self);
          const url = q ? `${path}?${q}` : path;
          shown.set(self, { start: Date.now(), url });
          c.capture('$pageview', { $path: path, $url: url, $referrer: lastRoute });
          lastRoute = path;
        });
        for (const name of ['onHide', 'onUnload'])
          before(options, name, (self) => {
            if (isObject(self)) leave(self);
          });
      }
      wrapHandlers(options, routeOf);
      return options;
    },

    Component(options) {
      if (isObject(options.methods)) wrapHandlers(options.methods as Options, route);
      return options;
    },

    install(g) {
      const target = globalThis as Record<string, unknown>;
      for (const kind of ['App', 'Page', 'Component'] as const) {
        const original = g[kind];
        if (original) target[kind] = (opts: Options) => original(api[kind](opts));
      }
    },
  };

  function routeOf(self: unknown): string {
    return isObject(self) && typeof (self as { route?: unknown }).route === 'string'
      ? (self as { route: string }).route
      : route();
  }

  return api;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

function isTap(e: unknown): e is TapEvent {
  return isObject(e) && TAPS.has((e as TapEvent).type) && isObject((e as TapEvent).currentTarget);
}

function launchProps(opts: unknown): Props {
  const o = (isObject(opts) ? opts : {}) as { scene?: unknown; path?: unknown };
  const p: Props = {};
  if (typeof o.scene === 'number') p.$scene = o.scene;
  if (typeof o.path === 'string') p.$path = o.path;
  return p;
}

function queryString(query: unknown): string {
  if (!isObject(query)) return '';
  return Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}
