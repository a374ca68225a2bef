import type { Props } from '../types.js';
import { describeElement } from './element.js';
import { clickPoint } from './heatmap.js';
import { isIgnored, isSensitiveField } from './privacy.js';
import { RageDetector } from './rage.js';

const INTERACTIVE =
  'a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=tab],[role=menuitem],[role=checkbox],[role=radio],[role=switch],[role=option],[onclick],[data-weft-id]';

export interface ClickOptions {
  /** Also capture clicks on non-interactive elements (dense heatmaps). */
  all: boolean;
  rage: boolean;
  maskAllText: boolean;
}

/** The element a click on `target` counts for: its closest interactive ancestor, if any. */
export function interactiveAncestor(target: Element): Element | null {
  return target.closest(INTERACTIVE);
}

/** What was clicked: the event target, seen through open shadow roots. */
export function clickTarget(e: Event): Element | null {
  const t = e.composedPath?.()[0] ?? e.target;
  return t instanceof Element ? t : t instanceof Node ? t.parentElement : null;
}

/**
 * `$click` for clicks on interactive elements (the closest one above the target), plus any
 * click that completes a rage burst. Listens in the capture phase so handlers that stop
 * propagation or navigate cannot hide the click.
 */
export function captureClicks(
  emit: (event: string, props: Props) => void,
  o: ClickOptions,
  paused: () => boolean,
): void {
  const rage = new RageDetector();
  document.addEventListener(
    'click',
    (e) => {
      if (paused()) return;
      const target = clickTarget(e);
      if (!target) return;
      const raged = o.rage && rage.hit(e.pageX, e.pageY, e.timeStamp);
      let el = interactiveAncestor(target);
      // The browser repeats a label click on its control; the control's click is the one kept.
      if (el instanceof HTMLLabelElement && el.control) return;
      if (!el && (o.all || raged)) el = target;
      if (!el || isIgnored(el) || isSensitiveField(el)) return;
      const props = {
        ...describeElement(el, { text: true, maskAllText: o.maskAllText }),
        ...clickPoint(e, el),
      };
      if (raged) props.$rage = true;
      emit('$click', props);
    },
    true,
  );
}
