/** A property value after normalization: nested input is flattened with dotted keys. */
export type PropValue = string | number | boolean | null;
export type Properties = Record<string, PropValue>;

/**
 * The canonical event (DESIGN §4), as it travels on the bus and is stored.
 * `time` is client time corrected for clock skew; `received_at` is server time.
 */
export interface WeftEvent {
  event_id: string;
  project: string;
  event: string;
  distinct_id: string;
  time: number;
  received_at: number;
  session_id?: string;
  properties: Properties;
  $set?: Properties;
  $set_once?: Properties;
}

/** Reserved event names. `$identify` carries the anonymous id in `properties.$anon_distinct_id`. */
export const IDENTIFY_EVENT = '$identify';
export const ANON_ID_PROPERTY = '$anon_distinct_id';

/** Per-event rejection reported by the batch and import routes. */
export interface Rejection {
  index: number;
  reason: string;
}

export interface BatchResult {
  accepted: number;
  rejected: Rejection[];
}
