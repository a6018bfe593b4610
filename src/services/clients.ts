// OAuth clients (RFC 7591 metadata). The engine validates the metadata; this service adds
// generated credentials, uniqueness, and the first-party flag (consent is skipped for
// clients the operator marks as their own).
import type { Kysely } from 'kysely';
import { randomToken } from '#src/crypto.ts';
import { isOidcScope } from '#src/services/claims.ts';
import { API_SCOPE_PROPERTY, toEngineClientMetadata } from '#src/services/client-scopes.ts';
import { undefinedScopes } from '#src/services/resources.ts';
import type { Database } from '#src/stores/schema.ts';
import { insertClientRow, listClientMetadata } from '#src/stores/client-store.ts';
import { encryptClientSecret } from '#src/stores/oidc-client-adapter.ts';

export class ClientError extends Error {
  override name = 'ClientError';
  constructor(readonly code: 'invalid_client_metadata' | 'invalid_redirect_uri' | 'client_exists', message: string) {
    super(message);
  }
}

// A secret Keyhold generates is 32 random bytes. One an operator brings must be at least
// as strong, which its text alone can only approximate: at least 43 characters (32 bytes
// in base64url; 64 hex digits pass too) of the base64/base64url/hex alphabets, and not a
// repetition of a few characters. A secret shared with HS* ID token signing needs the
// length anyway.
export const MIN_CLIENT_SECRET_LENGTH = 43;
const CLIENT_SECRET_ALPHABET = /^[A-Za-z0-9\-_.~+/=]+$/;
const MIN_DISTINCT_SECRET_CHARACTERS = 10;

function clientSecretProblem(secret: unknown): string | undefined {
  if (typeof secret !== 'string') return 'client_secret must be a string';
  if (secret.length < MIN_CLIENT_SECRET_LENGTH) {
    return `client_secret must be at least ${MIN_CLIENT_SECRET_LENGTH} characters (32 random bytes, e.g. \`openssl rand -base64 32\`); leave it out to have one generated`;
  }
  if (!CLIENT_SECRET_ALPHABET.test(secret)) return 'client_secret must use only letters, digits and - _ . ~ + / =';
  if (new Set(secret).size < MIN_DISTINCT_SECRET_CHARACTERS) return 'client_secret is too repetitive to be random; leave it out to have one generated';
  return undefined;
}

export interface ClientValidator {
  validate(metadata: Record<string, unknown>): Promise<void>;
  needsSecret(metadata: Record<string, unknown>): boolean;
}

export async function createClient(
  db: Kysely<Database>,
  encryptionKey: Buffer,
  validator: ClientValidator,
  input: unknown,
): Promise<Record<string, unknown>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ClientError('invalid_client_metadata', 'client metadata must be a JSON object');
  }
  const metadata: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  if (metadata.client_id !== undefined && (typeof metadata.client_id !== 'string' || !/^[\w.~:-]{1,128}$/.test(metadata.client_id))) {
    throw new ClientError('invalid_client_metadata', 'client_id must be 1-128 characters of letters, digits, and . _ ~ : -');
  }
  if (metadata.first_party !== undefined && typeof metadata.first_party !== 'boolean') {
    throw new ClientError('invalid_client_metadata', 'first_party must be a boolean');
  }
  if (metadata.client_secret !== undefined) {
    const problem = clientSecretProblem(metadata.client_secret);
    if (problem) throw new ClientError('invalid_client_metadata', problem);
  }
  if (API_SCOPE_PROPERTY in metadata) {
    throw new ClientError('invalid_client_metadata', `${API_SCOPE_PROPERTY} cannot be set: list API scopes in scope`);
  }
  // `scope` is the client's allow-list, API scopes included: each must be defined somewhere.
  if (typeof metadata.scope === 'string') {
    const unknown = await undefinedScopes(db, metadata.scope.split(' '), isOidcScope);
    if (unknown.length > 0) {
      throw new ClientError('invalid_client_metadata', `scope ${unknown.join(', ')} is defined by no registered API and is not an OpenID Connect scope`);
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
    throw new ClientError(code, engineError.error_description ?? engineError.message ?? 'invalid client metadata');
  }
  const { client_id: clientId, client_secret: clientSecret, first_party: firstParty, ...rest } = metadata;
  const inserted = await insertClientRow(db, {
    clientId: clientId as string,
    metadata: rest,
    secretEncrypted: typeof clientSecret === 'string' ? encryptClientSecret(encryptionKey, clientId as string, clientSecret) : null,
    firstParty: firstParty === true,
  });
  if (!inserted) throw new ClientError('client_exists', `a client with client_id ${String(clientId)} already exists`);
  return metadata;
}

// How stale another node's view of the registered origins may be: a client created there is
// allowed here within this time (one created here, at once).
const REGISTERED_ORIGINS_TTL_MS = 30_000;

export interface ClientService {
  create(input: unknown): Promise<Record<string, unknown>>;
  /**
   * The origins of every registered client's redirect URIs: where browser apps run. A client
   * created through this service counts at once; one created on another node within
   * `originsTtlMs` (default 30 s).
   */
  registeredOrigins(): Promise<ReadonlySet<string>>;
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
  const originsTtlMs = deps.originsTtlMs ?? REGISTERED_ORIGINS_TTL_MS;
  let cached: { origins: ReadonlySet<string>; at: number } | undefined;
  let loading: Promise<ReadonlySet<string>> | undefined;
  // Bumped by every change: a load that began before it must not be cached after it.
  let generation = 0;

  const load = async (): Promise<ReadonlySet<string>> => {
    const startedAt = generation;
    const metadata = await listClientMetadata(deps.db);
    const origins = new Set(metadata.flatMap((entry) => (Array.isArray(entry.redirect_uris) ? entry.redirect_uris : []).map(redirectOrigin).filter((origin): origin is string => origin !== undefined)));
    if (startedAt === generation) cached = { origins, at: Date.now() };
    return origins;
  };

  return {
    async create(input) {
      const created = await createClient(deps.db, deps.encryptionKey, deps.validator(), input);
      generation += 1;
      cached = undefined;
      loading = undefined;
      return created;
    },
    async registeredOrigins() {
      if (cached && Date.now() - cached.at <= originsTtlMs) return cached.origins;
      if (!loading) {
        const current = load().finally(() => {
          if (loading === current) loading = undefined;
        });
        loading = current;
      }
      return loading;
    },
  };
}
