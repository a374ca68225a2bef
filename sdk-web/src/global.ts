import { createWeft, type Weft } from './browser/weft.js';

declare global {
  interface Window {
    weft: Weft;
  }
}

// Resolved now: `document.currentScript` is only set while this script first runs.
const me = document.currentScript as HTMLScriptElement | null;
const weft = createWeft({ definitionScript: me?.src ? new URL('weft-define.js', me.src).href : undefined });
window.weft = weft;

// No-code install: <script src=".../weft.min.js" data-write-key="…" data-host="…"></script>
const writeKey = me?.dataset.writeKey;
if (writeKey) weft.init({ writeKey, host: me.dataset.host ?? new URL(me.src).origin });
