// The one error registry: every error code Keyhold answers with, its HTTP status and its
// message key in the catalogue (src/messages/). Protocol errors are the engine's (RFC 6749
// codes); these cover everything around it: the pages, the REST APIs, and the operator's
// commands (which print the message). Services throw `new KeyholdError(code, options)`;
// the error middleware renders it as JSON
// `{ "error": code, "error_description": text, "request_id": id }` (plus the error's own
// fields, e.g. `issues` or `violations`) or as the HTML error page. A page that re-renders
// its form instead catches the error by code (`isKeyholdError`).
import { message, type MessageKey, type MessageParams } from '#src/messages/index.ts';

const entry = <S extends number, K extends MessageKey>(status: S, key: K) => ({ status, key });

export const errorRegistry = {
  // The request itself.
  invalid_request: entry(400, 'error.invalid_request'),
  invalid_body: entry(400, 'error.invalid_body'),
  validation_failed: entry(400, 'error.validation_failed'),
  csrf_failed: entry(403, 'error.csrf_failed'),
  unauthorized: entry(401, 'error.unauthorized'),
  forbidden: entry(403, 'error.forbidden'),
  /** RFC 6750 §3.1: the token is valid but lacks the scope the route needs (Admin API). */
  insufficient_scope: entry(403, 'error.insufficient_scope'),
  not_found: entry(404, 'error.not_found'),
  method_not_allowed: entry(405, 'error.method_not_allowed'),
  payload_too_large: entry(413, 'error.payload_too_large'),
  unsupported_media_type: entry(415, 'error.unsupported_media_type'),
  rate_limited: entry(429, 'error.rate_limited'),
  internal_error: entry(500, 'error.internal_error'),
  service_unavailable: entry(503, 'error.service_unavailable'),
  /** Every slot for password hashing is taken (ARGON2_QUEUE): try again after Retry-After. */
  server_busy: entry(503, 'error.server_busy'),
  // People and their accounts: sign-in, registration, self-service, the Account API.
  invalid_password: entry(400, 'error.invalid_password'),
  password_rejected: entry(400, 'error.password_rejected'),
  invalid_email: entry(400, 'error.invalid_email'),
  /** A link or code that cannot be used; `reason` (field): invalid, expired, used, address_changed. */
  invalid_code: entry(400, 'error.invalid_code'),
  invalid_name: entry(400, 'error.invalid_name'),
  invalid_sign_in: entry(400, 'error.invalid_sign_in'),
  invitation_invalid: entry(400, 'error.invitation_invalid'),
  password_required: entry(400, 'error.password_required'),
  password_mismatch: entry(400, 'error.password_mismatch'),
  account_gone: entry(401, 'error.account_gone'),
  registration_closed: entry(403, 'error.registration_closed'),
  email_taken: entry(409, 'error.email_taken'),
  // Second factors.
  invalid_phone_number: entry(400, 'error.invalid_phone_number'),
  factor_disabled: entry(400, 'error.factor_disabled'),
  unknown_factor: entry(404, 'error.unknown_factor'),
  factor_exists: entry(409, 'error.factor_exists'),
  factor_required: entry(409, 'error.factor_required'),
  reauthentication_required: entry(403, 'error.reauthentication_required'),
  sms_failed: entry(502, 'error.sms_failed'),
  // Operator tasks (CLI, later the Admin API).
  invalid_account: entry(400, 'error.invalid_account'),
  invalid_role: entry(400, 'error.invalid_role'),
  invalid_scope: entry(400, 'error.invalid_scope'),
  invalid_resource: entry(400, 'error.invalid_resource'),
  invalid_client_metadata: entry(400, 'error.invalid_client_metadata'),
  invalid_redirect_uri: entry(400, 'error.invalid_redirect_uri'),
  unknown_account: entry(404, 'error.unknown_account'),
  unknown_role: entry(404, 'error.unknown_role'),
  unknown_resource: entry(404, 'error.unknown_resource'),
  unknown_signing_key: entry(404, 'error.unknown_signing_key'),
  unknown_client: entry(404, 'error.unknown_client'),
  unknown_tenant: entry(404, 'error.unknown_tenant'),
  invalid_tenant: entry(400, 'error.invalid_tenant'),
  tenant_exists: entry(409, 'error.tenant_exists'),
  tenant_in_use: entry(409, 'error.tenant_in_use'),
  role_exists: entry(409, 'error.role_exists'),
  resource_exists: entry(409, 'error.resource_exists'),
  client_exists: entry(409, 'error.client_exists'),
  signing_key_retired: entry(409, 'error.signing_key_retired'),
  last_signing_key: entry(409, 'error.last_signing_key'),
  /** A rotation for an algorithm the nodes do not sign with (SIGNING_ALGS). */
  invalid_signing_alg: entry(400, 'error.invalid_signing_alg'),
  // Webhooks and their deliveries.
  unknown_webhook: entry(404, 'error.unknown_webhook'),
  unknown_delivery: entry(404, 'error.unknown_delivery'),
  delivery_delivered: entry(409, 'error.delivery_delivered'),
  // Federation (connectors, upstream sign-in, linked identities).
  invalid_connector: entry(400, 'error.invalid_connector'),
  unknown_connector: entry(404, 'error.unknown_connector'),
  connector_exists: entry(409, 'error.connector_exists'),
  federation_failed: entry(400, 'error.federation_failed'),
  identity_linked_elsewhere: entry(409, 'error.identity_linked_elsewhere'),
  last_sign_in_method: entry(409, 'error.last_sign_in_method'),
  dynamic_registration_off: entry(409, 'error.dynamic_registration_off'),
} as const;

export type ErrorCode = keyof typeof errorRegistry;
export const errorCodes = Object.keys(errorRegistry) as ErrorCode[];

/** code → HTTP status. */
export const errorStatus = Object.fromEntries(errorCodes.map((code) => [code, errorRegistry[code].status])) as { [C in ErrorCode]: (typeof errorRegistry)[C]['status'] };

/** A catalogue key for error texts. */
export type ErrorMessageKey = Extract<MessageKey, `error.${string}`>;

export interface KeyholdErrorOptions {
  /** A more specific text than the registry's for this code (another catalogue key). */
  key?: ErrorMessageKey;
  /** Values for the text's `{name}` placeholders. */
  params?: MessageParams;
  /** HTTP headers the answer carries (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Extra members of the JSON error body (never overriding error, error_description, request_id). */
  fields?: Record<string, unknown>;
  cause?: unknown;
}

export class KeyholdError<C extends ErrorCode = ErrorCode> extends Error {
  override name = 'KeyholdError';
  readonly status: number;
  readonly key: ErrorMessageKey;
  readonly params: MessageParams;
  readonly headers: Record<string, string>;
  readonly fields: Record<string, unknown>;

  constructor(
    readonly code: C,
    options: KeyholdErrorOptions = {},
  ) {
    const key = options.key ?? errorRegistry[code].key;
    super(message(key, options.params), options.cause === undefined ? undefined : { cause: options.cause });
    this.status = errorRegistry[code].status;
    this.key = key;
    this.params = options.params ?? {};
    this.headers = options.headers ?? {};
    this.fields = options.fields ?? {};
  }

  /** The text in the first supported language of `locales`. */
  text(locales: readonly string[] = []): string {
    return message(this.key, this.params, locales);
  }
}

/** Whether `error` is a KeyholdError, with one of `codes` when any are given. */
export function isKeyholdError<C extends ErrorCode>(error: unknown, ...codes: C[]): error is KeyholdError<C> {
  return error instanceof KeyholdError && (codes.length === 0 || codes.includes(error.code as C));
}

/** Seconds a client is told to wait (Retry-After) when a dependency is down: long enough not
 *  to hammer a restarting Redis or Postgres, short enough that traffic resumes within
 *  seconds of its return. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** service_unavailable with Retry-After: a dependency (Redis, Postgres) is down or restarting. */
export function serviceUnavailable(cause?: unknown): KeyholdError<'service_unavailable'> {
  return new KeyholdError('service_unavailable', { headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) }, cause });
}

export function assertThat(condition: unknown, code: ErrorCode, options?: KeyholdErrorOptions): asserts condition {
  if (!condition) throw new KeyholdError(code, options);
}
