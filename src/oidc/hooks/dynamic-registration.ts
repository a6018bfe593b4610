// Dynamic client registration (RFC 7591) and management (RFC 7592). Every initial access
// token Keyhold issues (`keyhold client initial-token`) carries one policy, and the engine
// carries it on to the client's registration access token, so it runs on registration and
// on every update. It applies the rules `keyhold client create` applies (the engine's
// metadata validation runs after it, as for the CLI), and keeps to the operator what grants
// privilege rather than describes an app.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { API_SCOPE_PROPERTY, toEngineClientMetadata } from '#src/services/client-scopes.ts';

export const DYNAMIC_CLIENT_POLICY = 'keyhold-dynamic-client';

// first_party skips consent, introspection reads other clients' tokens: the operator's call.
const OPERATOR_ONLY = ['first_party', 'introspection'] as const;

export function dynamicClientPolicy(deps: {
  /** The requested scopes that neither OpenID Connect nor any registered API defines. */
  undefinedScopes(requested: string[]): Promise<string[]>;
}) {
  return async (_ctx: KoaContextWithOIDC, properties: Record<string, unknown>): Promise<void> => {
    for (const name of OPERATOR_ONLY) {
      if (properties[name] !== undefined && properties[name] !== false) {
        throw new errors.InvalidClientMetadata(`${name} is set by the operator only`);
      }
      delete properties[name];
    }
    // A client_credentials client acts in its own name with its scope allow-list as its
    // authority; a self-registered one would grant itself any API scope.
    if (Array.isArray(properties.grant_types) && properties.grant_types.includes('client_credentials')) {
      throw new errors.InvalidClientMetadata('client_credentials clients are registered by the operator only');
    }
    if (API_SCOPE_PROPERTY in properties) throw new errors.InvalidClientMetadata(`${API_SCOPE_PROPERTY} is derived from scope and cannot be set`);
    if (typeof properties.scope === 'string') {
      const unknown = await deps.undefinedScopes(properties.scope.split(' ').filter(Boolean));
      if (unknown.length > 0) throw new errors.InvalidClientMetadata(`scope names undefined scopes: ${unknown.join(', ')}`);
    }
    // As for `keyhold client create`: the engine validates the OIDC part of `scope`, the API
    // part travels beside it (src/services/client-scopes.ts).
    const engineView = toEngineClientMetadata(properties);
    for (const key of Object.keys(properties)) delete properties[key];
    Object.assign(properties, engineView);
  };
}
