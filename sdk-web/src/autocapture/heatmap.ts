import type { Props } from '../types.js';

const round3 = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

/**
 * Where a click landed: document coordinates, the viewport and document size (heatmaps
 * bucket by viewport width), the relative offset inside the element (so a point can be
 * redrawn on the element when the layout differs), and whether the element is fixed or
 * sticky (its document position depends on the scroll, so heatmaps place it by viewport).
 */
export function clickPoint(e: MouseEvent, el: Element): Props {
  const r = el.getBoundingClientRect();
  const d = document.documentElement;
  return {
    $x: Math.round(e.pageX),
    $y: Math.round(e.pageY),
    $ox: r.width ? round3((e.clientX - r.left) / r.width) : 0,
    $oy: r.height ? round3((e.clientY - r.top) / r.height) : 0,
    $vw: window.innerWidth,
    $vh: window.innerHeight,
    $dw: d.scrollWidth,
    $dh: d.scrollHeight,
    $fixed: isFixed(el),
  };
}

/**
 * Fixed and sticky elements are positioned, so they are on the offsetParent chain of
 * everything inside them: checking that chain (a few elements) instead of every ancestor
 * keeps computed-style reads off the click path.
 */
function isFixed(el: Element): boolean {
  let n: Element | null = el;
  while (n && n !== document.body) {
    const pos = getComputedStyle(n).position;
    if (pos === 'fixed' || pos === 'sticky') return true;
    n = n instanceof HTMLElement ? n.offsetParent : n.parentElement;
  }
  return false;
}
