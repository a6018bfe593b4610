// The one error registry: every error code Keyhold's own routes answer with, its HTTP
// status and its message key in the catalogue (src/messages/). Protocol errors are the
// engine's (RFC 6749 codes); these cover everything around it. Services throw
// `KeyholdError(code)`; the error middleware renders it as JSON
// `{ "error": code, "error_description": text, "request_id": id }` (plus the error's own
// fields, e.g. `issues` or `violations`) or as the HTML error page.
import { message, type MessageKey } from '#src/messages/index.ts';

const entry = <S extends number, K extends MessageKey>(status: S, key: K) => ({ status, key });

export const errorRegistry = {
  invalid_request: entry(400, 'error.invalid_request'),
  invalid_body: entry(400, 'error.invalid_body'),
  validation_failed: entry(400, 'error.validation_failed'),
  invalid_password: entry(400, 'error.invalid_password'),
  password_rejected: entry(400, 'error.password_rejected'),
  invalid_email: entry(400, 'error.invalid_email'),
  invalid_code: entry(400, 'error.invalid_code'),
  csrf_failed: entry(403, 'error.csrf_failed'),
  unauthorized: entry(401, 'error.unauthorized'),
  forbidden: entry(403, 'error.forbidden'),
  not_found: entry(404, 'error.not_found'),
  method_not_allowed: entry(405, 'error.method_not_allowed'),
  email_taken: entry(409, 'error.email_taken'),
  payload_too_large: entry(413, 'error.payload_too_large'),
  unsupported_media_type: entry(415, 'error.unsupported_media_type'),
  rate_limited: entry(429, 'error.rate_limited'),
  internal_error: entry(500, 'error.internal_error'),
  service_unavailable: entry(503, 'error.service_unavailable'),
} as const;

export type ErrorCode = keyof typeof errorRegistry;
export const errorCodes = Object.keys(errorRegistry) as ErrorCode[];

/** code → HTTP status. */
export const errorStatus = Object.fromEntries(errorCodes.map((code) => [code, errorRegistry[code].status])) as { [C in ErrorCode]: (typeof errorRegistry)[C]['status'] };

export class KeyholdError extends Error {
  override name = 'KeyholdError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    /** A more specific text than the catalogue's; the catalogue's when left out. */
    message_?: string,
    readonly headers: Record<string, string> = {},
    /** Extra members of the JSON error body (never overriding error, error_description, request_id). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message_ ?? message(errorRegistry[code].key));
    this.status = errorRegistry[code].status;
  }
}

export function assertThat(condition: unknown, code: ErrorCode, message: string): asserts condition {
  if (!condition) throw new KeyholdError(code, message);
}
