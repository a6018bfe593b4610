// The admin console's own OIDC client: public (no secret: the code is bound by PKCE), first
// party (no consent page), redirecting only to <ISSUER>/console/callback. Its allow-list
// names the Admin API scopes, but a token carries only those the signed-in account's roles
// grant (getResourceServerInfo): the client opens nothing the roles do not.
import type { Kysely } from 'kysely';
import { upsertClientRow } from '#src/stores/client-store.ts';
import type { Database } from '#src/stores/schema.ts';

export const CONSOLE_CLIENT_ID = 'keyhold-console';
export const CONSOLE_PATH = '/console';

export function consoleClientMetadata(issuer: string): Record<string, unknown> {
  return {
    client_name: 'Keyhold console',
    application_type: 'web',
    redirect_uris: [`${issuer}${CONSOLE_PATH}/callback`],
    post_logout_redirect_uris: [`${issuer}${CONSOLE_PATH}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid offline_access admin admin:read',
  };
}

/**
 * Creates the console's client, or puts it back as Keyhold defines it (an operator's edit
 * or an issuer change is undone at the next start).
 */
export async function ensureConsoleClient(db: Kysely<Database>, issuer: string): Promise<void> {
  await upsertClientRow(db, { clientId: CONSOLE_CLIENT_ID, metadata: consoleClientMetadata(issuer), secretEncrypted: null, firstParty: true });
}
