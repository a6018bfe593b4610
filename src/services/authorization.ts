// Who may get which API scope. A registered API's scopes are its permissions; a token for
// it carries only the requested scopes that
//   - the client's allow-list (the API scopes in its `scope` metadata) names, and,
//   - for a user's token, one of the account's roles grants (role → API scopes).
// A client without API scopes in its metadata gets none. Keyhold's own Account API is the
// user's own data: any signed-in user may let any client use it (third-party clients ask
// consent), whatever the roles or allow-list; a client on its own (client_credentials)
// never gets it, as it has no account to act on.
import type { Kysely } from 'kysely';
import { accountResourceFor, type ApiResource } from '#src/services/resources.ts';
import { grantedScopeRows } from '#src/stores/role-store.ts';
import type { Database } from '#src/stores/schema.ts';

/**
 * On whose behalf a token is asked for: an account (its roles), a user not yet known
 * (an authorization request before sign-in: the account is checked again after it), or
 * the client itself.
 */
export type TokenSubject = { kind: 'account'; roles: readonly string[] } | { kind: 'pending-user' } | { kind: 'client' };

export interface AuthorizationService {
  /** The scopes of `resource` a token may carry for this client and subject. */
  grantableScopes(resource: ApiResource, clientAllowList: readonly string[], subject: TokenSubject): Promise<string[]>;
}

export function createAuthorizationService(db: Kysely<Database>, issuer: string): AuthorizationService {
  const accountResource = accountResourceFor(issuer);
  return {
    async grantableScopes(resource, clientAllowList, subject) {
      if (resource.identifier === accountResource) return subject.kind === 'client' ? [] : [...resource.scopes];
      const allowed = new Set(clientAllowList);
      const clientScopes = resource.scopes.filter((scope) => allowed.has(scope));
      if (subject.kind !== 'account' || clientScopes.length === 0) return clientScopes;
      const granted = new Set(await grantedScopeRows(db, [...subject.roles], resource.identifier));
      return clientScopes.filter((scope) => granted.has(scope));
    },
  };
}
