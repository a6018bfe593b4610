// Client metadata beyond RFC 7591 that Keyhold understands. Each property is one entry of
// `{ name, validate }`; configuration.ts lists the entries, so a new property is a new
// module exporting one entry and one line there. The engine calls the validator for each
// listed property (present or not), synchronously, with the whole metadata at hand.
import type { Configuration } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { API_SCOPE_PROPERTY } from '#src/services/client-scopes.ts';

export interface ClientMetadataProperty {
  name: string;
  /** Throws errors.InvalidClientMetadata when `value` (undefined when absent) is not acceptable. */
  validate(value: unknown, metadata: Record<string, unknown>): void;
}

export function optionalBoolean(name: string): ClientMetadataProperty {
  return {
    name,
    validate(value) {
      if (value !== undefined && typeof value !== 'boolean') throw new errors.InvalidClientMetadata(`${name} must be a boolean`);
    },
  };
}

export function optionalString(name: string): ClientMetadataProperty {
  return {
    name,
    validate(value) {
      if (value !== undefined && typeof value !== 'string') throw new errors.InvalidClientMetadata(`${name} must be a string`);
    },
  };
}

/** Consent is skipped for the operator's own clients. */
export const firstParty = optionalBoolean('first_party');
/** May introspect other clients' tokens (a resource server). */
export const introspection = optionalBoolean('introspection');
/** Every sign-in to this client needs a second factor (enrolment is walked through). */
export const requireMfa = optionalBoolean('require_mfa');
/** The API scopes of `scope`, split off for the engine (client-scopes.ts). */
export const apiScope = optionalString(API_SCOPE_PROPERTY);

export function extraClientMetadata(properties: readonly ClientMetadataProperty[]): NonNullable<Configuration['extraClientMetadata']> {
  const byName = new Map(properties.map((property) => [property.name, property]));
  return {
    properties: [...byName.keys()],
    validator(_ctx, key, value, metadata) {
      byName.get(key)?.validate(value, metadata as Record<string, unknown>);
    },
  };
}
