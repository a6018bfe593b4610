// English texts shown to people and API clients. Every user-facing sentence lives in a
// catalogue keyed by a stable message key, so a second language is a second file of the
// same shape (src/messages/index.ts picks one).
export const en = {
  // Errors (src/errors.ts maps each error code to one of these).
  'error.invalid_request': 'The request is not valid.',
  'error.invalid_body': 'The request body could not be parsed.',
  'error.validation_failed': 'The request is not valid.',
  'error.invalid_password': 'The password is not correct.',
  'error.password_rejected': 'The password does not meet the password policy.',
  'error.invalid_email': 'That is not a usable email address.',
  'error.invalid_code': 'That code is not valid or has expired.',
  'error.csrf_failed': 'This form has expired. Go back, reload the page and try again.',
  'error.unauthorized': 'Authentication is required.',
  'error.forbidden': 'You are not allowed to do this.',
  'error.not_found': 'Not found.',
  'error.method_not_allowed': 'Method not allowed.',
  'error.email_taken': 'That email address is already in use.',
  'error.payload_too_large': 'The request body is too large.',
  'error.unsupported_media_type': 'Unsupported content type.',
  'error.rate_limited': 'Too many requests. Try again later.',
  'error.internal_error': 'An unexpected error occurred. Try again later.',
  'error.service_unavailable': 'The service is unavailable. Try again later.',
} as const;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;
