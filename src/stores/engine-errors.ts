// The engine's error classes without the engine: oidc-provider's main module builds the
// whole provider (Koa and its MIME table included), which a CLI command building only the
// core should not pay for. This is the very module the engine's `errors` export is, so
// `instanceof` and the engine's own handling of these errors are unchanged.
import type { errors as EngineErrors } from 'oidc-provider';
// @ts-expect-error: the package declares its main module only.
import * as errorClasses from 'oidc-provider/lib/helpers/errors.js';

export const errors = errorClasses as typeof EngineErrors;
