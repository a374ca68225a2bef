import type { Props } from '../types.js';
import { stableClasses, stableId } from './classes.js';
import { isMasked, redact } from './privacy.js';

export const ANCHOR_ATTR = 'data-weft-id';

const MAX_TEXT = 255;
const MAX_SELECTOR_DEPTH = 8;
const MAX_PATH_DEPTH = 32;
const INDEX_LEVELS = 5;

export interface DescribeOptions {
  /** Capture visible text (clicks); form fields never get text. */
  text: boolean;
  maskAllText: boolean;
}

/**
 * Element identity that survives page changes (DESIGN §4 click properties): the author's
 * `data-weft-id` anchor first; otherwise a selector of stable ids and classes; the tag
 * skeleton without positions; the position in a list as a separate field so all items of
 * one list share a selector.
 */
export function describeElement(el: Element, o: DescribeOptions): Props {
  const p: Props = { $el_tag: tagOf(el) };
  const id = stableId(el.id);
  if (id) p.$el_id = id;
  const classes = stableClasses(el.getAttribute('class') ?? '');
  if (classes.length) p.$el_classes = classes.join(' ');
  const anchor = el.closest(`[${ANCHOR_ATTR}]`);
  if (anchor) p.$el_anchor = anchor.getAttribute(ANCHOR_ATTR);
  const field = el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA';
  if (field) {
    const name = el.getAttribute('name');
    if (name) p.$el_name = name;
    p.$el_type = (el.getAttribute('type') ?? el.tagName).toLowerCase();
  }
  if (o.text && !o.maskAllText && !isMasked(el)) {
    const text = textOf(el, field);
    if (text) p.$el_text = text;
  }
  const href = el.closest('a')?.href;
  if (typeof href === 'string' && href && !/^javascript:/i.test(href)) p.$el_href = href;
  p.$el_selector = selectorOf(el, anchor);
  p.$el_path = pathOf(el);
  const index = indexOf(el);
  if (index !== undefined) p.$el_index = index;
  return p;
}

function tagOf(el: Element): string {
  return el.tagName.toLowerCase();
}

/** Buttons' labels only: nothing a user typed is ever read. */
function textOf(el: Element, field: boolean): string {
  let t: string;
  if (field) {
    // A button's value is its label; a checkbox or radio is named by its <label>.
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    if (/^(?:submit|button|reset)$/.test(type)) t = el.getAttribute('value') ?? '';
    else if (type === 'checkbox' || type === 'radio')
      t = (el as HTMLInputElement).labels?.[0]?.textContent ?? '';
    else t = '';
  } else t = el.textContent ?? '';
  t = t.replace(/\s+/g, ' ').trim() || (el.getAttribute('aria-label') ?? '').trim();
  return redact(t).slice(0, MAX_TEXT);
}

/** One step of the selector: tag, stable id or classes; the anchor replaces everything. */
function stepOf(el: Element, anchor: Element | null): { step: string; stop: boolean } {
  if (el === anchor)
    return { step: `[${ANCHOR_ATTR}="${cssEscape(el.getAttribute(ANCHOR_ATTR) ?? '')}"]`, stop: true };
  const id = stableId(el.id);
  if (id) return { step: `${tagOf(el)}#${cssEscape(id)}`, stop: true };
  const cls = stableClasses(el.getAttribute('class') ?? '').slice(0, 3);
  return { step: tagOf(el) + cls.map((c) => `.${cssEscape(c)}`).join(''), stop: false };
}

/** A child-combinator path up to the anchor, a stable id, or `body`; no nth-child. */
export function selectorOf(el: Element, anchor: Element | null = el.closest(`[${ANCHOR_ATTR}]`)): string {
  const steps: string[] = [];
  for (let n: Element | null = el; n && n.tagName !== 'BODY' && n.tagName !== 'HTML'; n = n.parentElement) {
    const s = stepOf(n, anchor);
    steps.push(s.step);
    if (s.stop || steps.length >= MAX_SELECTOR_DEPTH) break;
  }
  return steps.reverse().join(' > ');
}

/** Tag skeleton from the root: `html>body>div>ul>li>a`. */
function pathOf(el: Element): string {
  const tags: string[] = [];
  for (let n: Element | null = el; n && tags.length < MAX_PATH_DEPTH; n = n.parentElement)
    tags.push(tagOf(n));
  return tags.reverse().join('>');
}

/**
 * Position in the nearest list: the closest ancestor-or-self (a few levels up) whose
 * parent holds siblings of the same tag and stable classes.
 */
function indexOf(el: Element): number | undefined {
  let n: Element | null = el;
  for (let level = 0; n?.parentElement && level < INDEX_LEVELS; level++, n = n.parentElement) {
    if (n.tagName === 'BODY' || n.hasAttribute(ANCHOR_ATTR)) return undefined;
    const key = signature(n);
    const raw = n.getAttribute('class');
    let index = -1;
    let count = 0;
    for (let s: Element | null = n.parentElement.firstElementChild; s; s = s.nextElementSibling) {
      if (s === n) index = count;
      // Identical class attributes are the common case in a list: skip the cleaning.
      if (s === n || (s.tagName === n.tagName && (s.getAttribute('class') === raw || signature(s) === key)))
        count++;
    }
    if (count > 1) return index;
  }
  return undefined;
}

function signature(el: Element): string {
  return `${el.tagName} ${stableClasses(el.getAttribute('class') ?? '').join(' ')}`;
}

function cssEscape(s: string): string {
  return s.replace(/[^\w-]/g, (c) => `\\${c}`);
}
