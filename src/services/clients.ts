// OAuth clients (RFC 7591 metadata). The engine validates the metadata; this service adds
// generated credentials, uniqueness, and the first-party flag (consent is skipped for
// clients the operator marks as their own).
import type { Kysely } from 'kysely';
import { KeyholdError, type ErrorMessageKey } from '#src/errors.ts';
import { randomToken } from '#src/crypto.ts';
import { cspImage } from '#src/presentation/brand.ts';
import { isOidcScope } from '#src/services/claims.ts';
import { API_SCOPE_PROPERTY, toEngineClientMetadata } from '#src/services/client-scopes.ts';
import { undefinedScopes } from '#src/services/resources.ts';
import type { Database } from '#src/stores/schema.ts';
import { insertClientRow, listClientMetadata, type ClientRecord } from '#src/stores/client-store.ts';
import { createLookupCache } from '#src/stores/lookup-cache.ts';
import { ensureTenantRow } from '#src/stores/tenant-store.ts';
import { encryptClientSecret } from '#src/stores/oidc-client-adapter.ts';

// A secret Keyhold generates is 32 random bytes. One an operator brings must be at least
// as strong, which its text alone can only approximate: at least 43 characters (32 bytes
// in base64url; 64 hex digits pass too) of the base64/base64url/hex alphabets, and not a
// repetition of a few characters. A secret shared with HS* ID token signing needs the
// length anyway.
export const MIN_CLIENT_SECRET_LENGTH = 43;
const CLIENT_SECRET_ALPHABET = /^[A-Za-z0-9\-_.~+/=]+$/;
const MIN_DISTINCT_SECRET_CHARACTERS = 10;

function clientSecretProblem(secret: unknown): KeyholdError | undefined {
  const refuse = (key: ErrorMessageKey) => new KeyholdError('invalid_client_metadata', { key, params: { minLength: MIN_CLIENT_SECRET_LENGTH } });
  if (typeof secret !== 'string') return refuse('error.invalid_client_metadata.secret_type');
  if (secret.length < MIN_CLIENT_SECRET_LENGTH) return refuse('error.invalid_client_metadata.secret_short');
  if (!CLIENT_SECRET_ALPHABET.test(secret)) return refuse('error.invalid_client_metadata.secret_alphabet');
  if (new Set(secret).size < MIN_DISTINCT_SECRET_CHARACTERS) return refuse('error.invalid_client_metadata.secret_repetitive');
  return undefined;
}

export interface ClientValidator {
  validate(metadata: Record<string, unknown>): Promise<void>;
  needsSecret(metadata: Record<string, unknown>): boolean;
}

/**
 * Checks client metadata as the engine and Keyhold's own rules see it; fills in a missing
 * client_id and, when the client authenticates with one, a client_secret.
 */
export async function checkClientMetadata(db: Kysely<Database>, validator: ClientValidator, input: unknown): Promise<Record<string, unknown>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.not_object' });
  }
  const metadata: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  if (metadata.client_id !== undefined && (typeof metadata.client_id !== 'string' || !/^[\w.~:-]{1,128}$/.test(metadata.client_id))) {
    throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.client_id' });
  }
  // Shown on the consent page, so admitted by its CSP: https and a plain path only.
  if (metadata.logo_uri !== undefined && !cspImage(metadata.logo_uri, { httpsOnly: true })) {
    throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.logo_uri' });
  }
  if (metadata.first_party !== undefined && typeof metadata.first_party !== 'boolean') {
    throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.first_party' });
  }
  if (metadata.client_secret !== undefined) {
    const problem = clientSecretProblem(metadata.client_secret);
    if (problem) throw problem;
  }
  if (API_SCOPE_PROPERTY in metadata) {
    throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.api_scopes', params: { property: API_SCOPE_PROPERTY } });
  }
  if ('tenant' in metadata) throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.reserved', params: { property: 'tenant' } });
  // `scope` is the client's allow-list, API scopes included: each must be defined somewhere.
  if (typeof metadata.scope === 'string') {
    const unknown = await undefinedScopes(db, metadata.scope.split(' '), isOidcScope);
    if (unknown.length > 0) {
      throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.undefined_scopes', params: { scopes: unknown.join(', ') } });
    }
  }
  metadata.client_id ??= randomToken(16);
  if (metadata.client_secret === undefined && validator.needsSecret(metadata)) {
    metadata.client_secret = randomToken(32);
  }
  try {
    await validator.validate(toEngineClientMetadata(metadata));
  } catch (error) {
    const engineError = error as { error?: string; error_description?: string; message?: string };
    const code = engineError.error === 'invalid_redirect_uri' ? 'invalid_redirect_uri' : 'invalid_client_metadata';
    const detail = engineError.error_description ?? engineError.message;
    throw new KeyholdError(code, detail ? { key: 'error.engine_detail', params: { detail } } : {});
  }
  return metadata;
}

/** Splits checked metadata into the stored row's parts. */
export function clientRecord(encryptionKey: Buffer, metadata: Record<string, unknown>): ClientRecord {
  const { client_id: clientId, client_secret: clientSecret, first_party: firstParty, ...rest } = metadata;
  return {
    clientId: clientId as string,
    metadata: rest,
    secretEncrypted: typeof clientSecret === 'string' ? encryptClientSecret(encryptionKey, clientId as string, clientSecret) : null,
    firstParty: firstParty === true,
  };
}

export async function createClient(
  db: Kysely<Database>,
  encryptionKey: Buffer,
  validator: ClientValidator,
  input: unknown,
  options: { tenant?: string } = {},
): Promise<Record<string, unknown>> {
  const metadata = await checkClientMetadata(db, validator, input);
  if (options.tenant !== undefined) await ensureTenantRow(db, options.tenant);
  const inserted = await insertClientRow(db, { ...clientRecord(encryptionKey, metadata), ...(options.tenant !== undefined ? { tenant: options.tenant } : {}) });
  if (!inserted) throw new KeyholdError('client_exists', { params: { clientId: String(metadata.client_id) } });
  return metadata;
}

// How stale another node's view of the registered origins may be: a client created there is
// allowed here within this time (one created here, at once).
const REGISTERED_ORIGINS_TTL_MS = 30_000;
const ALL_ORIGINS = 'all';

export interface ClientService {
  create(input: unknown): Promise<Record<string, unknown>>;
  /**
   * The origins of every registered client's redirect URIs: where browser apps run. A client
   * created through this service counts at once; one created on another node within
   * `originsTtlMs` (default 30 s).
   */
  registeredOrigins(): Promise<ReadonlySet<string>>;
  /** Forgets what was read: a client changed here (Admin API) counts at once. */
  invalidate(): void;
}

/** The origin of a redirect URI; none for a malformed URI or an opaque ("null") origin. */
export function redirectOrigin(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  try {
    const { origin } = new URL(uri);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

export function createClientService(deps: {
  db: Kysely<Database>;
  encryptionKey: Buffer;
  /** The engine's metadata rules; asked for on each creation (the engine may be rebuilt). */
  validator(): ClientValidator;
  /** How long a read of the origins is reused (default 30 s). */
  originsTtlMs?: number;
}): ClientService {
  // One entry, every origin; evicted on any change to a client (invalidate()).
  const origins = createLookupCache<ReadonlySet<string>>({ ttlMs: deps.originsTtlMs ?? REGISTERED_ORIGINS_TTL_MS, maxEntries: 1 });
  // Requests that miss at once share one read of every client, not one read each; a read
  // begun before a change is not shared with requests after it.
  let loading: Promise<ReadonlySet<string>> | undefined;

  const load = async (): Promise<ReadonlySet<string>> => {
    const metadata = await listClientMetadata(deps.db);
    return new Set(metadata.flatMap((entry) => (Array.isArray(entry.redirect_uris) ? entry.redirect_uris : []).map(redirectOrigin).filter((origin): origin is string => origin !== undefined)));
  };

  return {
    async create(input) {
      const created = await createClient(deps.db, deps.encryptionKey, deps.validator(), input);
      this.invalidate();
      return created;
    },
    invalidate() {
      origins.clear();
      loading = undefined;
    },
    async registeredOrigins() {
      // Never undefined: the load always answers a set, however empty.
      return (await origins.get(ALL_ORIGINS, () => {
        if (!loading) {
          const current = load().finally(() => {
            if (loading === current) loading = undefined;
          });
          loading = current;
        }
        return loading;
      }))!;
    },
  };
}
