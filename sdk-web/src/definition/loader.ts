import type { Props } from '../types.js';
import { type DefinitionMode, MODE_GLOBAL, type PageMessage } from './protocol.js';

export interface DefinitionOptions {
  /** Origins allowed to switch definition mode on and to receive picked elements. */
  origins: string[];
  /** URL of `weft-define.js`. */
  script: string;
  resolve(target: Element): Element;
  describe(el: Element): Props;
  onPick?: (element: Props) => void;
  /** Auto-capture is paused while defining: a definition click is not a user click. */
  setPaused(paused: boolean): void;
}

export const URL_FLAG = 'weft_define';

/**
 * Definition mode is opened by the dashboard, either with `?weft_define` (or `#weft_define`)
 * in the URL of a window it opened or framed, or by a `{type:'weft:define'}` message from an
 * allowed origin. Only then is the mode's code fetched: it is not part of the core bundle.
 */
export function watchDefinition(o: DefinitionOptions): () => Promise<void> {
  let peer: { win: MessageEventSource | null; origins: string[] } = {
    win: window.opener ?? (window.parent !== window ? window.parent : null),
    origins: o.origins,
  };
  let mode: DefinitionMode | undefined;

  const post = (m: PageMessage) => {
    // A wrong targetOrigin drops the message, so posting to each allowed origin leaks nothing.
    for (const origin of peer.origins) (peer.win as Window | null)?.postMessage(m, origin);
  };

  const start = async () => {
    mode ??= await load(o.script);
    o.setPaused(true);
    mode.start({
      resolve: o.resolve,
      describe: o.describe,
      pick: (element) => {
        post({ type: 'weft:element', element, url: location.href });
        o.onPick?.(element);
      },
      exit: () => {
        o.setPaused(false);
        post({ type: 'weft:define-exit' });
      },
    });
    post({ type: 'weft:define-ready', url: location.href });
  };

  addEventListener('message', (e) => {
    if (!o.origins.includes(e.origin) || e.data?.type !== 'weft:define') return;
    peer = { win: e.source, origins: [e.origin] };
    if (e.data.enable === false) {
      mode?.stop();
      o.setPaused(false);
    } else void start();
  });
  if (new RegExp(`[?&#]${URL_FLAG}\\b`).test(location.search + location.hash)) void start();
  return start;
}

function load(src: string): Promise<DefinitionMode> {
  return new Promise((resolve, reject) => {
    const ready = window[MODE_GLOBAL];
    if (ready) return resolve(ready);
    const s = document.createElement('script');
    s.src = src;
    s.async = true;
    s.onload = () => {
      const m = window[MODE_GLOBAL];
      m ? resolve(m) : reject(new Error('weft: definition mode did not load'));
    };
    s.onerror = () => reject(new Error(`weft: cannot load ${src}`));
    document.head.appendChild(s);
  });
}
