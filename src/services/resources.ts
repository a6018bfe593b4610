// API resources (RFC 8707): the audiences Keyhold issues JWT access tokens for.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import type { Database } from '#src/stores/schema.ts';
import { findResourceRow, insertResourceRow, listDefinedApiScopes } from '#src/stores/resource-store.ts';

export interface ApiResource {
  identifier: string;
  scopes: string[];
  accessTokenTtl: number | null;
}

/** Keyhold's own Account API as an RFC 8707 resource: request it with resource=<this>. */
export function accountResourceFor(issuer: string): string {
  return `${issuer}/api/account`;
}
export const ACCOUNT_SCOPES = ['account:read', 'account:write'] as const;

/** Keyhold's Admin API as an RFC 8707 resource; role `admin` grants its scopes by default. */
export function adminResourceFor(issuer: string): string {
  return `${issuer}/api/admin`;
}
export const ADMIN_SCOPES = ['admin', 'admin:read'] as const;

// RFC 8707 §2: an absolute URI without a fragment.
const identifierSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return !url.hash && !value.includes('#') && url.protocol.length > 1;
    } catch {
      return false;
    }
  });

// RFC 6749 §3.3 scope-token: printable ASCII without space, quote or backslash.
export const scopeSchema = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/);

export async function createResource(db: Kysely<Database>, input: { identifier: string; scopes: string[]; accessTokenTtl?: number }): Promise<ApiResource> {
  const identifier = identifierSchema.safeParse(input.identifier);
  if (!identifier.success) throw new KeyholdError('invalid_resource');
  for (const scope of input.scopes) {
    if (!scopeSchema.safeParse(scope).success) throw new KeyholdError('invalid_resource', { key: 'error.invalid_resource.scope', params: { scope } });
  }
  const resource = { identifier: identifier.data, scopes: [...new Set(input.scopes)], accessTokenTtl: input.accessTokenTtl ?? null };
  if (!(await insertResourceRow(db, resource))) throw new KeyholdError('resource_exists', { params: { identifier: resource.identifier } });
  return resource;
}

export async function findResource(db: Kysely<Database>, identifier: string): Promise<ApiResource | undefined> {
  const row = await findResourceRow(db, identifier);
  return row ? { identifier: row.identifier, scopes: row.scopes, accessTokenTtl: row.access_token_ttl } : undefined;
}

/** Registers Keyhold's own Account API resource on first start (and after an issuer change). */
export async function ensureAccountResource(db: Kysely<Database>, issuer: string): Promise<void> {
  await insertResourceRow(db, { identifier: accountResourceFor(issuer), scopes: [...ACCOUNT_SCOPES], accessTokenTtl: null });
}

/** Registers the Admin API resource; true when it was new (first start, issuer change). */
export function ensureAdminResource(db: Kysely<Database>, issuer: string): Promise<boolean> {
  return insertResourceRow(db, { identifier: adminResourceFor(issuer), scopes: [...ADMIN_SCOPES], accessTokenTtl: null });
}

/** The requested scopes that neither OpenID Connect nor any registered API defines. */
export async function undefinedScopes(db: Kysely<Database>, requested: Iterable<string>, isOidcScope: (scope: string) => boolean): Promise<string[]> {
  const candidates = [...requested].filter((scope) => scope !== '' && !isOidcScope(scope));
  if (candidates.length === 0) return [];
  const defined = await listDefinedApiScopes(db);
  return candidates.filter((scope) => !defined.has(scope));
}
