import type { WeftEvent } from '@weft/core';

let seq = 0;

/** A normalized event of project `p` with a fresh event id. */
export function ev(
  distinct_id: string,
  event: string,
  time: number,
  extra: Partial<WeftEvent> = {},
): WeftEvent {
  return {
    event_id: `e${seq++}`,
    project: 'p',
    event,
    distinct_id,
    time,
    received_at: time,
    properties: {},
    ...extra,
  };
}
