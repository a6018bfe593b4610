// A client's `scope` metadata is its allow-list of scopes: the OpenID Connect scopes the
// engine knows, and registered API scopes. The engine refuses client metadata naming a
// scope outside its own list, and reads `scope` as the OIDC allow-list only; so the engine
// is handed the OIDC part as `scope` and the API part as `api_scope`, which
// getResourceServerInfo reads. The database keeps `scope` as the operator wrote it.
import { isOidcScope } from '#src/services/claims.ts';

export const API_SCOPE_PROPERTY = 'api_scope';

function scopeList(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

/** Stored (or operator-given) metadata → what the engine validates and loads. */
export function toEngineClientMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const { scope, [API_SCOPE_PROPERTY]: _derived, ...rest } = metadata;
  if (scope === undefined) return rest;
  if (typeof scope !== 'string') return { ...rest, scope };
  const scopes = scopeList(scope);
  const oidc = scopes.filter(isOidcScope);
  const api = scopes.filter((entry) => !isOidcScope(entry));
  // The engine checks OIDC scopes only when the client has a `scope`: an allow-list of API
  // scopes alone must not open every OIDC scope (offline_access, roles…), so it allows openid.
  return { ...rest, scope: oidc.length > 0 ? oidc.join(' ') : 'openid', ...(api.length > 0 ? { [API_SCOPE_PROPERTY]: api.join(' ') } : {}) };
}

/** The engine's metadata (dynamic registration management) → what is stored. */
export function fromEngineClientMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const { scope, [API_SCOPE_PROPERTY]: api, ...rest } = metadata;
  // 'openid' alone was added for an allow-list of API scopes only (toEngineClientMetadata).
  const oidc = scopeList(scope);
  const scopes = [...(api !== undefined && oidc.length === 1 && oidc[0] === 'openid' ? [] : oidc), ...scopeList(api)];
  return scopes.length > 0 ? { ...rest, scope: scopes.join(' ') } : rest;
}

/** The API scopes a loaded engine client may be given (its allow-list). */
export function clientApiAllowList(client: { [key: string]: unknown }): string[] {
  return scopeList(client[API_SCOPE_PROPERTY]);
}
