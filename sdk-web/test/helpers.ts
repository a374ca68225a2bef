import type { WireEvent } from '../src/types.js';

let n = 0;

export function event(name = 'e', props: WireEvent['properties'] = {}): WireEvent {
  n++;
  return {
    event_id: `id-${n}`,
    event: name,
    distinct_id: 'u',
    time: 1_700_000_000_000 + n,
    properties: props,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
