// Admin API tokens as callers get them: a service client's own (client_credentials) or a
// signed-in administrator's (authorization code), both for the resource <ISSUER>/api/admin.
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { adminResourceFor } from '#src/services/resources.ts';
import { callApi } from './api.ts';
import { createUser, discover, login, registerClient, tokenRequest } from './oidc.ts';
import type { TestServer } from './server.ts';

/** A client_credentials client with `scope` as its allow-list, in `tenant` (default: default). */
export async function adminServiceClient(server: TestServer, scope: string, tenant?: string) {
  const { client, clientSecret } = await server.keyhold.admin.clients.create(
    CLI_ACTOR,
    { client_id: `admin-svc-${randomBytes(4).toString('hex')}`, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope },
    { tenant },
  );
  return { clientId: client.client_id, clientSecret: clientSecret! };
}

/** A client_credentials token for the Admin API with `scope`. */
export async function adminClientToken(server: TestServer, scope: 'admin' | 'admin:read' | 'admin admin:read', tenant?: string): Promise<string> {
  const client = await adminServiceClient(server, 'admin admin:read', tenant);
  const response = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: adminResourceFor(server.issuer), scope });
  if (response.status !== 200 || typeof response.body.access_token !== 'string') throw new Error(`no admin token: ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}

/** A user with `roles` in `tenant`, signed in to a first-party admin console; its Admin API token and refresh token. */
export async function adminUserToken(server: TestServer, options: { roles?: string[]; tenant?: string; scope?: string } = {}) {
  const adminConsole = await registerClient(server, { first_party: true, scope: 'openid offline_access admin admin:read' });
  const config = await discover(server, adminConsole);
  const user = await createUser(server, { roles: options.roles ?? ['admin'], tenant: options.tenant });
  const { tokens } = await login(config, user, { resource: adminResourceFor(server.issuer), scope: options.scope ?? 'openid offline_access admin', prompt: 'consent' });
  return { user, config, token: tokens.access_token, refreshToken: tokens.refresh_token };
}

/**
 * The callers an installation-wide Admin API route (connectors, signing keys, webhooks) tells
 * apart: an owner, a service client's `admin` and `admin:read` tokens (bound to the default
 * tenant), and a signed-in account without role admin that asked for the admin scopes.
 */
export async function installationWideCallers(server: TestServer) {
  const signedIn = await adminUserToken(server, { roles: ['admin', 'owner'] });
  return {
    owner: signedIn.token,
    ownerId: signedIn.user.id,
    tenantWrite: await adminClientToken(server, 'admin'),
    read: await adminClientToken(server, 'admin:read'),
    plainUser: (await adminUserToken(server, { roles: ['user'], scope: 'openid admin admin:read' })).token,
  };
}

/**
 * A write only an owner may make, refused to everyone else: admin:read lacks the scope, an
 * administrator bound to a tenant is forbidden, an account without role admin never got the
 * scopes it asked for, and no token is 401.
 */
export async function assertOwnerOnlyWrite(
  t: ExecutionContext,
  server: TestServer,
  callers: Pick<Awaited<ReturnType<typeof installationWideCallers>>, 'read' | 'tenantWrite' | 'plainUser'>,
  request: { method: string; path: string; body?: unknown },
): Promise<void> {
  const { method, path, body } = request;
  const readOnly = await callApi(server, callers.read, method, path, body);
  t.is(readOnly.status, 403, `${method} ${path}`);
  t.is(readOnly.body.error, 'insufficient_scope');
  const tenantBound = await callApi(server, callers.tenantWrite, method, path, body);
  t.is(tenantBound.status, 403, `${method} ${path}`);
  t.is(tenantBound.body.error, 'forbidden');
  const notAdmin = await callApi(server, callers.plainUser, method, path, body);
  t.is(notAdmin.status, 403, `${method} ${path}`);
  t.is(notAdmin.body.error, 'insufficient_scope');
  t.is((await callApi(server, undefined, method, path, body)).status, 401);
}
