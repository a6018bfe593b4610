// keyhold init: the quickstart. Everything a first hour needs, made once: a demo account, an
// SPA client on http://localhost (examples/spa), an API (examples/api) whose scopes the
// default role grants, and a service client (examples/service) allowed those scopes. Run
// again, it makes only what is missing and says what already exists (secrets and passwords
// are shown only when made). Through the same administration services as `user create`,
// `client create` and `resource create`, so the same rules and audit entries apply.
import { randomBytes } from 'node:crypto';
import { parseOptions, UsageError } from '#src/cli/args.ts';
import type { Plan } from '#src/cli/plan.ts';
import type { Core } from '#src/core.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { describeRole, grantRole } from '#src/services/roles.ts';
import { findAccountByEmail } from '#src/stores/account-store.ts';
import { findClientRow } from '#src/stores/client-store.ts';
import { findResourceRow } from '#src/stores/resource-store.ts';

export const DEMO_SPA_CLIENT_ID = 'demo-spa';
export const DEMO_SERVICE_CLIENT_ID = 'demo-service';
const API_SCOPES = ['orders:read', 'orders:write'];

function origin(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${option} must be a URL like http://localhost:5173`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${option} must be an http:// or https:// URL`);
  return url.origin;
}

export function planInit(args: string[]): Plan {
  const values = parseOptions(args, {
    email: { type: 'string', default: 'demo@example.com' },
    password: { type: 'string' },
    'spa-origin': { type: 'string', default: 'http://localhost:5173' },
    api: { type: 'string', default: 'http://localhost:4000' },
  });
  const spaOrigin = origin(values['spa-origin'], 'spa-origin');
  const api = values.api;
  return { needs: 'core', run: (core) => initialise(core, { email: values.email, password: values.password, spaOrigin, api }) };
}

async function initialise(core: Core, options: { email: string; password?: string; spaOrigin: string; api: string }) {
  // Demo credentials and a client on http://localhost have no place in a deployment.
  if (core.config.NODE_ENV === 'production') throw new Error('init makes demo accounts and clients for a local trial; it does not run with NODE_ENV=production');
  const role = core.config.DEFAULT_ROLES[0] ?? 'user';

  const api = (await findResourceRow(core.db, options.api))
    ? { status: 'exists', identifier: options.api }
    : { status: 'created', ...(await core.admin.resources.create(CLI_ACTOR, { identifier: options.api, scopes: API_SCOPES })) };
  // Every new account has the default role; the role grants the demo API's scopes.
  const grants = (await describeRole(core.db, role))?.grants ?? [];
  const granted = grants.some((grant) => grant.resource === options.api && API_SCOPES.every((scope) => grant.scopes.includes(scope)));
  if (!granted) await grantRole(core.db, { name: role, resource: options.api, scopes: API_SCOPES });

  const existingUser = await findAccountByEmail(core.db, options.email);
  const password = options.password ?? randomBytes(12).toString('base64url');
  const user = existingUser
    ? { status: 'exists', email: existingUser.email, note: 'its password was shown when it was made; `keyhold user password-reset --email …` mails a reset link' }
    : { status: 'created', email: (await core.admin.users.create(CLI_ACTOR, { email: options.email, password, name: 'Demo User', emailVerified: true })).email, password };

  const redirect = `${options.spaOrigin}/`;
  const spa = (await findClientRow(core.db, DEMO_SPA_CLIENT_ID))
    ? { status: 'exists', client_id: DEMO_SPA_CLIENT_ID }
    : {
        status: 'created',
        client_id: (
          await core.admin.clients.create(CLI_ACTOR, {
            client_id: DEMO_SPA_CLIENT_ID,
            client_name: 'Demo SPA',
            // A public client (no secret) with PKCE, as a browser app must be; first-party, so
            // that it gets refresh tokens for offline_access without a consent page.
            token_endpoint_auth_method: 'none',
            first_party: true,
            grant_types: ['authorization_code', 'refresh_token'],
            redirect_uris: [redirect],
            post_logout_redirect_uris: [redirect],
            // Its allow-list: without the API's scopes here, its tokens carry none of them.
            scope: ['openid', 'profile', 'email', 'offline_access', ...API_SCOPES].join(' '),
          })
        ).client.client_id,
        redirect_uri: redirect,
      };

  const existingService = await findClientRow(core.db, DEMO_SERVICE_CLIENT_ID);
  const service = existingService
    ? { status: 'exists', client_id: DEMO_SERVICE_CLIENT_ID, note: 'its secret was shown when it was made; `keyhold client rotate-secret --id demo-service` makes a new one' }
    : await (async () => {
        const { client, clientSecret } = await core.admin.clients.create(CLI_ACTOR, {
          client_id: DEMO_SERVICE_CLIENT_ID,
          client_name: 'Demo service',
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          // Its allow-list: client_credentials tokens get what is asked for and listed here.
          scope: API_SCOPES.join(' '),
        });
        return { status: 'created', client_id: client.client_id, client_secret: clientSecret };
      })();

  const issuer = core.config.ISSUER;
  return {
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    user,
    spa: { ...spa, redirect_uri: redirect },
    api: { ...api, scopes: API_SCOPES, granted_by_role: role },
    service,
    next_steps: [
      `Run the API: ISSUER=${issuer} AUDIENCE=${options.api} CORS_ORIGIN=${options.spaOrigin} npx tsx --conditions=@keyhold/source examples/api/main.ts`,
      `Sign in from a browser app: ISSUER=${issuer} npx tsx examples/spa/serve.ts, then open ${options.spaOrigin} and sign in as ${options.email}`,
      `Call the API as the service: KEYHOLD_ISSUER=${issuer} CLIENT_ID=${DEMO_SERVICE_CLIENT_ID} CLIENT_SECRET=<its client_secret> API_URL=${options.api} API_RESOURCE=${options.api} npx tsx --conditions=@keyhold/source examples/service/main.ts`,
      'Every command: npx keyhold help',
    ],
  };
}
