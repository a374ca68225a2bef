// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { describeElement } from '../src/autocapture/element.js';
import { isIgnored, isSensitiveField, redact } from '../src/autocapture/privacy.js';

const $ = (sel: string) => document.querySelector(sel)!;

beforeEach(() => {
  document.body.innerHTML = '';
});

describe('privacy', () => {
  it('recognizes password, hidden, card and secret fields', () => {
    document.body.innerHTML = `
      <input type="password" id="a"><input type="hidden" id="b"><input autocomplete="cc-number" id="c">
      <input name="cardNumber" id="d"><input name="cvv" id="e"><input name="card_exp_month" id="f">
      <input autocomplete="one-time-code" id="g"><input name="api_token" id="h"><input name="ssn" id="i">
      <input name="email" id="ok1"><input name="search" id="ok2"><select name="country" id="ok3"></select><button id="ok4"></button>`;
    for (const id of 'abcdefghi') expect(isSensitiveField($(`#${id}`)), id).toBe(true);
    for (const id of ['ok1', 'ok2', 'ok3', 'ok4']) expect(isSensitiveField($(`#${id}`)), id).toBe(false);
  });

  it('honours the ignore attribute on ancestors', () => {
    document.body.innerHTML = `<div data-weft-ignore><button id="x">No</button></div><button id="y">Yes</button>`;
    expect(isIgnored($('#x'))).toBe(true);
    expect(isIgnored($('#y'))).toBe(false);
  });

  it('masks text under data-weft-mask and with maskAllText, keeping identity', () => {
    document.body.innerHTML = `<div data-weft-mask><a id="m" href="/me">Jane Doe</a></div><a id="n">Plain</a>`;
    const masked = describeElement($('#m'), { text: true, maskAllText: false });
    expect(masked.$el_text).toBeUndefined();
    expect(masked.$el_selector).toBe('a#m');
    expect(describeElement($('#n'), { text: true, maskAllText: true }).$el_text).toBeUndefined();
    expect(describeElement($('#n'), { text: true, maskAllText: false }).$el_text).toBe('Plain');
  });

  it('redacts card numbers and emails in visible text', () => {
    expect(redact('Card 4111 1111 1111 1111 saved for jane.doe+x@example.com')).toBe(
      'Card [card] saved for [email]',
    );
    expect(redact('Order 12345 of 2024')).toBe('Order 12345 of 2024');
  });
});
