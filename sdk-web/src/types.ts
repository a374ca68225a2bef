/** A property value: the collector accepts flat objects of these (DESIGN §4). */
export type PropValue = string | number | boolean | null;
export type Props = Record<string, PropValue>;

/** One event as sent to `POST /v1/batch`. */
export interface WireEvent {
  event_id: string;
  event: string;
  distinct_id: string;
  time: number;
  session_id?: string;
  properties: Props;
  $set?: Props;
  $set_once?: Props;
}

/** Synchronous key/value storage: localStorage in browsers, wx storage in mini-programs. */
export interface Store {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
  keys(prefix: string): string[];
}

/** Outcome of one POST; status 0 means the request never got an HTTP answer. */
export interface SendResult {
  status: number;
  retryAfterMs?: number;
}

export type Post = (body: string | Uint8Array<ArrayBuffer>, contentType: string) => Promise<SendResult>;

export type Encoding = 'json' | 'msgpack';
