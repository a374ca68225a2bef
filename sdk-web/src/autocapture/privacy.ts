/** Privacy rules every auto-captured event passes through. */

export const IGNORE_ATTR = 'data-weft-ignore';
export const MASK_ATTR = 'data-weft-mask';

const SENSITIVE_NAME =
  /pass(?:word|wd)?|pwd|secret|token|(?:card|cc)[-_ ]?(?:num|no|number|holder)|cvv|cvc|csc|cid\b|expir|exp[-_]?(?:date|month|year|mm|yy)|security[-_ ]?code|iban|ssn|social[-_ ]?security|\bpin\b/i;

/** Fields that produce no event at all: passwords, hidden inputs, card, bank and secret fields. */
export function isSensitiveField(el: Element): boolean {
  const tag = el.tagName;
  if (tag !== 'INPUT' && tag !== 'TEXTAREA' && tag !== 'SELECT') return false;
  const type = (el.getAttribute('type') ?? '').toLowerCase();
  if (type === 'password' || type === 'hidden') return true;
  const ac = (el.getAttribute('autocomplete') ?? '').toLowerCase();
  if (/(?:^|\s)(?:cc-|current-password|new-password|one-time-code)/.test(ac)) return true;
  return SENSITIVE_NAME.test(`${el.getAttribute('name') ?? ''} ${el.id} ${ac}`);
}

/** Inside an element the site marked with `data-weft-ignore`: capture nothing. */
export function isIgnored(el: Element): boolean {
  return el.closest(`[${IGNORE_ATTR}]`) !== null;
}

/** Inside an element marked `data-weft-mask`: capture identity but no text. */
export function isMasked(el: Element): boolean {
  return el.closest(`[${MASK_ATTR}]`) !== null;
}

const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
const EMAIL = /[\w.+-]+@[\w-]+\.[\w.-]+/g;

/** Visible text can still carry personal data (a card number echoed back, an email in a menu). */
export function redact(text: string): string {
  return text.replace(CARD, '[card]').replace(EMAIL, '[email]');
}
