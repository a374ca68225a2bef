// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { describeElement, selectorOf } from '../src/autocapture/element.js';

const click = { text: true, maskAllText: false };
const $ = (sel: string) => document.querySelector(sel)!;

beforeEach(() => {
  document.body.innerHTML = '';
});

describe('element identity', () => {
  it('builds selector and skeleton from stable classes, with the list index apart', () => {
    document.body.innerHTML = `
      <main class="Layout_main__a1B2c">
        <ul class="sc-bdVaJa kXyZab product-list">
          <li class="item"><a class="Link_link__9zQ1x is-active" href="/p/1">First</a></li>
          <li class="item hover"><a class="Link_link__9zQ1x" href="/p/2">  Second
             product </a></li>
        </ul>
      </main>`;
    const p = describeElement(document.querySelectorAll('a')[1], click);
    expect(p).toMatchObject({
      $el_tag: 'a',
      $el_classes: 'Link_link',
      $el_text: 'Second product',
      $el_selector: 'main.Layout_main > ul.product-list > li.item > a.Link_link',
      $el_path: 'html>body>main>ul>li>a',
      $el_index: 1,
    });
    expect(String(p.$el_href)).toMatch(/\/p\/2$/);
    // The first item (with a state class) gets the same selector: one identity, two positions.
    const first = describeElement(document.querySelectorAll('a')[0], click);
    expect(first.$el_selector).toBe(p.$el_selector);
    expect(first.$el_index).toBe(0);
  });

  it('starts the selector at the author anchor, and at a stable id', () => {
    document.body.innerHTML = `
      <div class="css-1x2y3z"><section data-weft-id="pricing"><div><button class="cta">Buy</button></div></section></div>
      <nav id="top"><span><button>Menu</button></span></nav>`;
    const buy = describeElement($('.cta'), click);
    expect(buy.$el_selector).toBe('[data-weft-id="pricing"] > div > button.cta');
    expect(buy.$el_anchor).toBe('pricing');
    expect(describeElement($('nav button'), click).$el_selector).toBe('nav#top > span > button');
  });

  it('survives a re-render with new hashes and state classes', () => {
    document.body.innerHTML = `<div class="Card_card__x1Y2z"><button class="Btn_b__3xK9a css-abc123 is-loading">Go</button></div>`;
    const before = describeElement($('button'), click);
    document.body.innerHTML = `<div class="Card_card__Q9w8E"><button class="Btn_b__7Hh2k css-zz9y8x">Go</button></div>`;
    const after = describeElement($('button'), click);
    for (const k of ['$el_selector', '$el_path', '$el_classes', '$el_text'])
      expect(after[k], k).toBe(before[k]);
  });

  it('caps text at 255 characters and falls back to aria-label', () => {
    document.body.innerHTML = `<button id="long">${'x'.repeat(400)}</button><button aria-label="Close"><svg></svg></button>`;
    expect(String(describeElement($('#long'), click).$el_text).length).toBe(255);
    expect(describeElement($('[aria-label]'), click).$el_text).toBe('Close');
  });

  it('gives fields a name and type but never their value', () => {
    document.body.innerHTML = `<input name="email" type="email" value="a@b.c"><input type="submit" value="Send">
      <label><input type="checkbox" name="terms"> I agree</label>`;
    const email = describeElement($('[name=email]'), click);
    expect(email).toMatchObject({ $el_tag: 'input', $el_name: 'email', $el_type: 'email' });
    expect(JSON.stringify(email)).not.toContain('a@b.c');
    expect(describeElement($('[type=submit]'), click).$el_text).toBe('Send');
    expect(describeElement($('[type=checkbox]'), click).$el_text).toBe('I agree');
  });

  it('does not index single children or stop at the body', () => {
    document.body.innerHTML = `<div class="a"><p><button>One</button></p></div><div class="b"></div>`;
    expect(describeElement($('button'), click).$el_index).toBeUndefined();
    expect(selectorOf($('button'))).toBe('div.a > p > button');
  });
});
