import { clickTarget } from '../autocapture/clicks.js';
import { type DefinitionHost, MODE_GLOBAL } from './protocol.js';

/**
 * Visual event definition, loaded only when the dashboard asks for it: hovering outlines
 * the element a click would be attributed to; a click returns that element's identity
 * instead of acting on the page; Escape or the bar's button leaves.
 */

const Z = '2147483647';
const BLOCKED = [
  'click',
  'dblclick',
  'auxclick',
  'mousedown',
  'mouseup',
  'pointerdown',
  'pointerup',
  'submit',
];

let host: DefinitionHost | undefined;
let box: HTMLDivElement;
let bar: HTMLDivElement;

function css(el: HTMLElement, style: Partial<CSSStyleDeclaration>): void {
  Object.assign(el.style, style);
}

function isOurs(el: Element): boolean {
  return bar.contains(el) || el === box;
}

function highlight(el: Element, picked = false): void {
  const r = el.getBoundingClientRect();
  css(box, {
    display: 'block',
    left: `${r.left}px`,
    top: `${r.top}px`,
    width: `${r.width}px`,
    height: `${r.height}px`,
    background: picked ? 'rgba(22,163,74,.25)' : 'rgba(255,90,31,.12)',
  });
}

function onMove(e: Event): void {
  const t = clickTarget(e);
  if (!host || !t || isOurs(t)) return;
  highlight(host.resolve(t));
}

function onBlocked(e: Event): void {
  const t = clickTarget(e);
  if (!host || !t) return;
  if (isOurs(t)) {
    if (e.type === 'click' && t.closest('button')) exit();
    return;
  }
  e.preventDefault();
  e.stopImmediatePropagation();
  if (e.type !== 'click') return;
  const el = host.resolve(t);
  highlight(el, true);
  host.pick(host.describe(el));
}

function onKey(e: KeyboardEvent): void {
  if (e.key === 'Escape') exit();
}

function exit(): void {
  const h = host;
  stop();
  h?.exit();
}

function start(h: DefinitionHost): void {
  if (host) stop();
  host = h;
  box = document.createElement('div');
  css(box, {
    position: 'fixed',
    pointerEvents: 'none',
    zIndex: Z,
    border: '2px solid #ff5a1f',
    boxSizing: 'border-box',
    display: 'none',
  });
  bar = document.createElement('div');
  css(bar, {
    position: 'fixed',
    bottom: '12px',
    left: '50%',
    transform: 'translateX(-50%)',
    zIndex: Z,
    font: '13px system-ui,sans-serif',
    background: '#111',
    color: '#fff',
    padding: '8px 12px',
    borderRadius: '6px',
  });
  bar.textContent = 'Weft: click an element to define an event. ';
  const done = document.createElement('button');
  done.textContent = 'Done (Esc)';
  bar.appendChild(done);
  document.body.append(box, bar);
  addEventListener('mouseover', onMove, true);
  for (const t of BLOCKED) addEventListener(t, onBlocked, true);
  addEventListener('keydown', onKey, true);
}

function stop(): void {
  if (!host) return;
  host = undefined;
  box.remove();
  bar.remove();
  removeEventListener('mouseover', onMove, true);
  for (const t of BLOCKED) removeEventListener(t, onBlocked, true);
  removeEventListener('keydown', onKey, true);
}

window[MODE_GLOBAL] = { start, stop };
