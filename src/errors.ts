// The closed set of error codes Keyhold's own routes answer with. Protocol errors are the
// engine's (RFC 6749 codes); these cover everything around it. Every error body is
// `{ "error": code, "error_description": text, "request_id": id }` (plus the error's own
// fields, e.g. `issues` or `violations`) or the HTML error page.
export const errorStatus = {
  invalid_request: 400,
  invalid_body: 400,
  validation_failed: 400,
  invalid_password: 400,
  password_rejected: 400,
  invalid_email: 400,
  invalid_code: 400,
  csrf_failed: 403,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class KeyholdError extends Error {
  override name = 'KeyholdError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra members of the JSON error body (never overriding error, error_description, request_id). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = errorStatus[code];
  }
}

export function assertThat(condition: unknown, code: ErrorCode, message: string): asserts condition {
  if (!condition) throw new KeyholdError(code, message);
}
