// What every Admin API route shares: its dependencies, its security scheme (a bearer token
// for <ISSUER>/api/admin; `admin:read` reads, `admin` writes) and the refusals every route
// may answer besides its own.
import type { ErrorCode } from '#src/errors.ts';
import type { RouteSecurity } from '#src/http/route.ts';
import type { Administration } from '#src/services/admin/index.ts';
import type { SessionService } from '#src/services/sessions.ts';

export interface AdminApiDependencies {
  admin: Administration;
  /** Live browser sessions of an account (the user detail). */
  sessions: Pick<SessionService, 'list'>;
}

export const ADMIN_TOKEN_SCHEME = 'adminToken';
export const adminRead: RouteSecurity = { scheme: ADMIN_TOKEN_SCHEME, scopes: ['admin:read'] };
export const adminWrite: RouteSecurity = { scheme: ADMIN_TOKEN_SCHEME, scopes: ['admin'] };

/** Every Admin API route may refuse a token without the scope it needs. */
export const adminErrors = (...codes: ErrorCode[]): ErrorCode[] => ['insufficient_scope', 'invalid_request', ...codes];
