// The REST API's contract: /api/openapi.json is a valid OpenAPI 3.1 document generated
// from the route declarations; every documented operation is served, every served /api
// route is documented, and what a route answers on refusal is what its document says.
import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import { servedRoutes } from '../helpers/app-routes.ts';
import type Koa from 'koa';
import { accountResourceFor } from '#src/services/resources.ts';
import { adminUserToken } from '../helpers/admin.ts';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let document: Record<string, any>;

test.before(async () => {
  // Administrators sign in here with the password alone: second factors are test/e2e/mfa*.test.ts's subject.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  document = (await (await fetch(`${server.issuer}/api/openapi.json`)).json()) as Record<string, any>;
});
test.after.always(async () => {
  await server?.stop();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every (method, path) documented, with its operation. */
function operations(): Array<{ method: string; path: string; operation: Record<string, any> }> {
  return Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
}

/** Every route the app's routers serve under /api, in OpenAPI path syntax. */
function servedApiRoutes(app: Koa): string[] {
  const routes = new Set<string>();
  for (const layer of servedRoutes(app)) {
    if (!layer.path.startsWith('/api/')) continue;
    for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method.toLowerCase()} ${layer.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return [...routes].sort();
}

/** The documented error codes of one answer status of an operation. */
function documentedCodes(operation: Record<string, any>, status: number): string[] {
  return operation.responses[String(status)]?.['x-error-codes'] ?? [];
}

test('the document is valid OpenAPI 3.1 and every $ref resolves', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(document);
  t.true(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
  t.is(validator.version, '3.1');
  const refs = JSON.stringify(document).match(/"#\/components\/schemas\/[A-Za-z0-9_]+"/g) ?? [];
  t.true(refs.length > 0);
  for (const ref of refs) t.truthy(document.components.schemas[ref.slice(22, -1)], ref);
});

test('every served /api route is documented, and every documented operation is served', async (t) => {
  const documented = operations()
    .map(({ method, path }) => `${method} ${path}`)
    .sort();
  t.deepEqual(servedApiRoutes(server.keyhold.app), documented);
  for (const { method, path } of operations()) {
    const response = await fetch(`${server.issuer}${path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000')}`, { method: method.toUpperCase(), headers: { accept: 'application/json' } });
    t.not(response.status, 404, `${method} ${path}`);
    t.not(response.status, 405, `${method} ${path}`);
  }
});

test('a secured operation refuses an anonymous caller with a documented 401 code', async (t) => {
  for (const { method, path, operation } of operations()) {
    if (operation.security.length === 0) continue;
    const response = await fetch(`${server.issuer}${path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000')}`, { method: method.toUpperCase(), headers: { accept: 'application/json' } });
    const body = (await response.json()) as Record<string, string>;
    t.is(response.status, 401, `${method} ${path}`);
    t.true(documentedCodes(operation, 401).includes(body.error!), `${method} ${path} answered ${body.error}`);
  }
});

test('a body the schema refuses gets a documented 400 code, with the issues', async (t) => {
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const { tokens } = await login(config, await createUser(server), { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' });
  // Each API with a token for it: the Account API as its user, the Admin API as an owner.
  const admin = await adminUserToken(server, { roles: ['admin', 'owner'] });
  let checked = 0;
  for (const { method, path, operation } of operations()) {
    if (!operation.requestBody) continue;
    const token = path.startsWith('/api/admin/') ? admin.token : tokens.access_token;
    const response = await fetch(`${server.issuer}${path}`, {
      method: method.toUpperCase(),
      headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ not_a_field_of_any_route: true }),
    });
    const body = (await response.json()) as Record<string, any>;
    t.is(response.status, 400, `${method} ${path}`);
    t.is(body.error, 'validation_failed', `${method} ${path}`);
    t.true(documentedCodes(operation, 400).includes(body.error), `${method} ${path}`);
    t.true(Array.isArray(body.issues) && body.issues.length > 0);
    checked++;
  }
  t.true(checked >= 5);
});

test('the Error schema lists exactly the codes the registry knows, and each operation documents only known codes', async (t) => {
  const known: string[] = document.components.schemas.Error.properties.error.enum;
  for (const { method, path, operation } of operations()) {
    for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
      for (const code of response['x-error-codes'] ?? []) t.true(known.includes(code), `${method} ${path} ${status}: ${code}`);
    }
  }
  t.true(known.includes('validation_failed') && known.includes('unauthorized'));
});

test('every Admin API operation is documented with its scope, and its named bodies and answers carry examples', async (t) => {
  const admin = operations().filter(({ path }) => path.startsWith('/api/admin/'));
  t.true(admin.length >= 25);
  for (const { method, path, operation } of admin) {
    const scopes = operation.security.find((requirement: Record<string, string[]>) => 'adminOauth2' in requirement)?.adminOauth2;
    t.deepEqual(scopes, [method === 'get' ? 'admin:read' : 'admin'], `${method} ${path}`);
    t.true(documentedCodes(operation, 403).includes('insufficient_scope'), `${method} ${path}`);
    const refs = [operation.requestBody?.content['application/json'].schema.$ref, ...Object.values(operation.responses as Record<string, any>).map((response) => response.content?.['application/json']?.schema?.$ref)]
      .filter((ref): ref is string => typeof ref === 'string' && !ref.endsWith('/Error'));
    for (const ref of refs) {
      const schema = document.components.schemas[ref.slice('#/components/schemas/'.length)];
      t.true(Array.isArray(schema.examples) && schema.examples.length > 0, `${method} ${path}: ${ref} has an example`);
    }
  }
});
