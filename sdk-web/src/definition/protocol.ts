import type { Props } from '../types.js';

/** What the core gives the lazily loaded definition mode. */
export interface DefinitionHost {
  /** The element a click on `target` is attributed to (its closest interactive ancestor). */
  resolve(target: Element): Element;
  /** The same identity `$click` events carry, so a definition matches past clicks. */
  describe(el: Element): Props;
  pick(element: Props): void;
  exit(): void;
}

export interface DefinitionMode {
  start(host: DefinitionHost): void;
  stop(): void;
}

/** The chunk announces itself on this global (a classic script, so it loads under any page setup). */
export const MODE_GLOBAL = '__weftDefine';

declare global {
  interface Window {
    [MODE_GLOBAL]?: DefinitionMode;
  }
}

/** Messages between the page and the dashboard frame or opener. */
export type DashboardMessage = { type: 'weft:define'; enable?: boolean };
export type PageMessage =
  | { type: 'weft:define-ready'; url: string }
  | { type: 'weft:element'; element: Props; url: string }
  | { type: 'weft:define-exit' };
