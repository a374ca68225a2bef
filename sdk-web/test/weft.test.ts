// @vitest-environment happy-dom
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWeft } from '../src/browser/weft.js';
import type { WireEvent } from '../src/types.js';
import { sleep } from './helpers.js';

const batches: { body: { write_key: string; sent_at: number; events: WireEvent[] }; type: string }[] = [];
const weft = createWeft();
const events = () => batches.flatMap((b) => b.body.events);
const named = (name: string, from = events()) => from.filter((e) => e.event === name);
let initial: typeof batches = [];

beforeAll(async () => {
  (window as unknown as { happyDOM: { setURL(u: string): void } }).happyDOM.setURL(
    'https://shop.example/landing?utm_source=news&utm_campaign=spring',
  );
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      batches.push({
        body: JSON.parse(String(init.body)),
        type: String((init.headers as Record<string, string>)['Content-Type']),
      });
      return new Response('{"accepted":1,"rejected":[]}');
    }),
  );
  document.body.innerHTML = `
    <button id="buy" class="Btn_primary__3xK9a">Buy now</button>
    <div data-weft-ignore><button id="secret">Hidden</button></div>
    <form id="signup"><input name="email" id="email" value="jane@example.com"><input type="password" name="pw" id="pw"></form>`;
  // Called before init: kept and replayed.
  weft.register({ plan: 'free' });
  weft.track('early', { n: 1 });
  weft.init({
    host: 'https://collector.example/',
    writeKey: 'wk_test',
    batchSize: 100,
    flushIntervalMs: 60_000,
    settleMs: 5,
  });
  await weft.flush();
  initial = batches.splice(0);
});

beforeEach(async () => {
  await weft.flush();
  batches.length = 0;
});

describe('browser SDK', () => {
  it('sent a first page view with campaign, first-touch profile data, and the early event', async () => {
    const sent = initial.flatMap((b) => b.body.events);
    const [pv] = named('$pageview', sent);
    expect(pv.properties).toMatchObject({
      $path: '/landing',
      $utm_source: 'news',
      $utm_campaign: 'spring',
      $lib: 'weft-web',
      plan: 'free',
    });
    expect(pv.$set_once).toMatchObject({ $initial_utm_source: 'news' });
    expect(named('early', sent)[0].properties).toMatchObject({ n: 1, plan: 'free' });
    expect(initial[0].type).toBe('text/plain');
    expect(initial[0].body.write_key).toBe('wk_test');
  });

  it('captures clicks with identity and heatmap fields, skipping ignored elements', async () => {
    document.getElementById('buy')!.click();
    document.getElementById('secret')!.click();
    await weft.flush();
    const clicks = named('$click');
    expect(clicks).toHaveLength(1);
    expect(clicks[0].properties).toMatchObject({
      $el_tag: 'button',
      $el_id: 'buy',
      $el_classes: 'Btn_primary',
      $el_text: 'Buy now',
      $el_selector: 'button#buy',
      $fixed: false,
    });
    for (const k of ['$x', '$y', '$ox', '$oy', '$vw', '$vh', '$dw', '$dh'])
      expect(typeof clicks[0].properties[k]).toBe('number');
  });

  it('reports field changes and submits without values; password fields not at all', async () => {
    for (const id of ['email', 'pw'])
      document.getElementById(id)!.dispatchEvent(new Event('change', { bubbles: true }));
    document
      .getElementById('signup')!
      .dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await weft.flush();
    expect(named('$change').map((e) => e.properties.$el_name)).toEqual(['email']);
    expect(named('$submit')[0].properties).toMatchObject({
      $el_tag: 'form',
      $el_id: 'signup',
      $form_fields: 1,
    });
    expect(JSON.stringify(events())).not.toContain('jane@example.com');
  });

  it('identify links the anonymous id and switches the distinct id', async () => {
    const anon = weft.getAnonymousId();
    weft.track('before');
    weft.identify('user-42', { name: 'Jane' });
    weft.track('after');
    weft.identify('user-42');
    await weft.flush();
    expect(events().map((e) => [e.event, e.distinct_id])).toEqual([
      ['before', anon],
      ['$identify', 'user-42'],
      ['after', 'user-42'],
    ]);
    expect(named('$identify')[0]).toMatchObject({
      properties: { $anon_distinct_id: anon },
      $set: { name: 'Jane' },
    });
  });

  it('every event has a unique id, a time and the shared session', async () => {
    weft.track('a');
    weft.track('b');
    await weft.flush();
    const [a, b] = events();
    expect(a.event_id).not.toBe(b.event_id);
    expect(a.session_id).toBe(b.session_id);
    expect(a.session_id).toBe(weft.getSessionId());
  });

  it('reset forgets the login id and super properties', async () => {
    weft.reset();
    weft.track('anon again');
    await weft.flush();
    const [e] = events();
    expect(e.distinct_id).toBe(weft.getAnonymousId());
    expect(e.distinct_id).not.toBe('user-42');
    expect(e.properties.plan).toBeUndefined();
  });

  it('opt-out stops capture until opt-in', async () => {
    weft.optOut();
    weft.track('nope');
    document.getElementById('buy')!.click();
    expect(weft.hasOptedOut()).toBe(true);
    weft.optIn();
    weft.track('yes');
    await weft.flush();
    expect(events().map((e) => e.event)).toEqual(['yes']);
  });

  it('a SPA navigation sends one leave and one view', async () => {
    history.pushState({}, '', '/product/1');
    history.replaceState({}, '', '/product/1');
    await sleep(30);
    await weft.flush();
    expect(events().map((e) => e.event)).toEqual(['$pageleave', '$pageview']);
    expect(named('$pageleave')[0].properties.$path).toBe('/landing');
    expect(named('$pageview')[0].properties.$path).toBe('/product/1');
  });
});
