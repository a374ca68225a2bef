/** Error codes of the HTTP API (DESIGN §6) and the status each maps to. */
export const ERROR_STATUS = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  overloaded: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error that is meant for the client: it carries its status and a JSON body. */
export class WeftError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Seconds, for 429/503 answers. */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, details?: unknown, retryAfter?: number) {
    super(message);
    this.name = 'WeftError';
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function invalid(field: string, problem: string): WeftError {
  return new WeftError('invalid', `${field}: ${problem}`, { field });
}
