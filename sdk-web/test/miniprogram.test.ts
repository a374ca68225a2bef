// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { createMiniWeft, type Wx } from '../src/miniprogram/index.js';
import type { WireEvent } from '../src/types.js';

/** A small fake of the WeChat `wx` global: sync storage and a scripted `request`. */
function fakeWx(statuses: number[] = []) {
  const storage = new Map<string, unknown>();
  const requests: {
    url: string;
    header: Record<string, string>;
    body: { write_key: string; events: WireEvent[] };
  }[] = [];
  const wx: Wx = {
    getStorageSync: (k) => storage.get(k) ?? '',
    setStorageSync: (k, v) => void storage.set(k, v),
    removeStorageSync: (k) => void storage.delete(k),
    getStorageInfoSync: () => ({ keys: [...storage.keys()] }),
    request(o) {
      requests.push({ url: o.url, header: o.header, body: JSON.parse(String(o.data)) });
      const status = statuses.shift() ?? 200;
      setTimeout(() => (status ? o.success({ statusCode: status }) : o.fail({ errMsg: 'request:fail' })), 0);
    },
    getSystemInfoSync: () => ({ platform: 'ios', windowWidth: 375, windowHeight: 812 }),
  };
  return { wx, storage, requests, sent: () => requests.flatMap((r) => r.body.events) };
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;
/** Calls a (wrapped) option the way the framework would, with the page instance as `this`. */
const call = (o: object, name: string, self?: object, ...args: unknown[]) =>
  (o as Record<string, Fn>)[name].apply(self, args);

const tap = (id: string, dataset: Record<string, unknown> = {}) => ({
  type: 'tap',
  detail: { x: 120.4, y: 300.6 },
  currentTarget: { id, dataset },
});

describe('mini-program adapter', () => {
  it('turns App and Page lifecycles and tap handlers into events', async () => {
    const f = fakeWx();
    const stack: { route: string }[] = [];
    const weft = createMiniWeft({
      host: 'https://c.example',
      writeKey: 'wk',
      wx: f.wx,
      getCurrentPages: () => stack,
    });
    const calls: string[] = [];
    const app = weft.App({ onLaunch: () => calls.push('launch'), onHide: () => calls.push('hide') });
    const page = weft.Page({
      data: {},
      onShow() {
        calls.push('show');
      },
      onBuy(e: unknown) {
        calls.push(`buy:${(e as { currentTarget: { id: string } }).currentTarget.id}`);
        return 'handled';
      },
      onInput() {
        calls.push('input');
      },
    });
    const home = { route: 'pages/home/home' };
    const detail = { route: 'pages/detail/detail' };
    call(app, 'onLaunch', undefined, { scene: 1001, path: 'pages/home/home' });
    stack.push(home);
    call(page, 'onLoad', home, {});
    call(page, 'onShow', home);
    expect(call(page, 'onBuy', home, tap('buy', { weftId: 'buy-button' }))).toBe('handled');
    call(page, 'onBuy', home, tap('x', { weftIgnore: '' }));
    call(page, 'onInput', home, { type: 'input', detail: { value: 'secret' } });
    call(page, 'onHide', home);
    stack.push(detail);
    call(page, 'onLoad', detail, { id: 7 });
    call(page, 'onShow', detail);
    call(app, 'onHide', undefined);
    await weft.flush();
    expect(calls).toEqual(['launch', 'show', 'buy:buy', 'buy:x', 'input', 'show', 'hide']);
    const events = f.sent();
    expect(events.map((e) => e.event)).toEqual([
      '$app_launch',
      '$pageview',
      '$click',
      '$pageleave',
      '$pageview',
      '$app_hide',
    ]);
    expect(events[0].properties).toMatchObject({ $scene: 1001, $lib: 'weft-miniprogram', $platform: 'ios' });
    expect(events[2].properties).toMatchObject({
      $el_handler: 'onBuy',
      $el_id: 'buy',
      $el_anchor: 'buy-button',
      $x: 120,
      $y: 301,
      $path: 'pages/home/home',
    });
    expect(typeof events[3].properties.$duration_ms).toBe('number');
    expect(events[4].properties).toMatchObject({
      $url: 'pages/detail/detail?id=7',
      $referrer: 'pages/home/home',
    });
    expect(JSON.stringify(events)).not.toContain('secret');
    expect(f.requests[0]).toMatchObject({
      url: 'https://c.example/v1/batch',
      header: { 'X-Write-Key': 'wk' },
    });
    expect(f.requests[0].header['content-type']).toBe('application/json');
  });

  it('wraps Component methods', async () => {
    const f = fakeWx();
    const weft = createMiniWeft({
      host: 'https://c.example',
      writeKey: 'wk',
      wx: f.wx,
      getCurrentPages: () => [{ route: 'pages/a/a' }],
    });
    const comp = weft.Component({ methods: { onTapCard() {} } });
    (comp.methods as { onTapCard: (e: unknown) => void }).onTapCard(tap('card'));
    await weft.flush();
    expect(f.sent()[0].properties).toMatchObject({
      $el_handler: 'onTapCard',
      $el_id: 'card',
      $path: 'pages/a/a',
    });
  });

  it('keeps the queue in wx storage across a relaunch and retries after failures', async () => {
    const f = fakeWx([0]);
    const first = createMiniWeft({ host: 'https://c.example', writeKey: 'wk', wx: f.wx, leaseMs: 1 });
    first.track('offline');
    await first.flush();
    expect(f.requests).toHaveLength(1);
    const sent = f.requests[0].body.events[0];
    // The process dies here; the next launch finds the stored queue and sends it.
    await new Promise((r) => setTimeout(r, 5));
    const second = createMiniWeft({ host: 'https://c.example', writeKey: 'wk', wx: f.wx });
    await new Promise((r) => setTimeout(r, 80));
    await second.flush();
    const delivered = f.requests.slice(1).flatMap((r) => r.body.events);
    expect(delivered.map((e) => e.event_id)).toEqual([sent.event_id]);
    expect(second.getDistinctId()).toBe(first.getDistinctId());
  });

  it('install wraps the global constructors', () => {
    const f = fakeWx();
    const weft = createMiniWeft({ host: 'https://c.example', writeKey: 'wk', wx: f.wx });
    const registered: Record<string, unknown>[] = [];
    weft.install({ Page: (o) => registered.push(o) });
    (globalThis as unknown as { Page: (o: Record<string, unknown>) => void }).Page({ onTap() {} });
    expect(typeof registered[0].onShow).toBe('function');
  });
});
