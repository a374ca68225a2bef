import { createWeft } from './browser/weft.js';

export type { AutocaptureOptions, Weft, WeftOptions } from './browser/weft.js';
export type { Props, PropValue, WireEvent } from './types.js';
export { createWeft };

/** The shared instance, as `window.weft` is for the script tag. */
export const weft = createWeft();
