// @keyhold/verify's middleware over HTTP, with tokens from a real Keyhold: the same routes on
// a Koa app and on Express-shaped `(req, res, next)` handlers served by node:http (Express
// itself is not a dependency; its middleware contract is that shape). RFC 6750 answers: 401
// `Bearer` without a token, 401 `invalid_token` for a bad one, 403 `insufficient_scope` for a
// good one that is not enough, 503 when the issuer cannot be reached.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import { createVerifier, type AccessTokenClaims, type Verifier } from '@keyhold/verify';
import * as express from '@keyhold/verify/express';
import * as koa from '@keyhold/verify/koa';
import { createResource } from '#src/services/resources.ts';
import { grantRole } from '#src/services/roles.ts';
import { signInNewUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { clientToken, serviceClient } from '../helpers/verify.ts';

const ORDERS = 'https://orders.example.test';
const BILLING = 'https://billing.example.test';

let keyhold: TestServer;
const apps: Record<'koa' | 'express', string> = { koa: '', express: '' };
const servers: Server[] = [];
const tokens = { clientRead: '', clientId: '', user: '', userId: '', billing: '' };

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPortIssuer(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function koaApp(verifier: Verifier, unreachable: Verifier): ReturnType<Koa['callback']> {
  const router = new Router();
  const ok: Koa.Middleware = (ctx) => {
    ctx.body = { sub: (ctx.state.auth as AccessTokenClaims).sub };
  };
  const auth = koa.authenticate(verifier);
  router.get('/orders', auth, koa.requireScope('orders:read'), ok);
  router.post('/orders', auth, koa.requireScope('orders:read', 'orders:write'), ok);
  router.get('/audit', auth, koa.requirePermission('orders:write'), ok);
  router.get('/admin', auth, koa.requireRole('admin', 'owner'), ok);
  router.get('/pro', auth, koa.requireTier('pro', 'team'), ok);
  router.get('/no-authenticate', koa.requireScope('orders:read'), ok);
  router.get('/unreachable', koa.authenticate(unreachable), ok);
  return new Koa().use(router.routes()).callback();
}

type Handler = (req: IncomingMessage & { auth?: AccessTokenClaims }, res: ServerResponse, next: (error?: unknown) => void) => unknown;

/** Express-style routing on node:http: each route is a chain of (req, res, next) handlers. */
function expressShapedServer(verifier: Verifier, unreachable: Verifier): Server {
  const ok: Handler = (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ sub: req.auth!.sub }));
  };
  const auth = express.authenticate(verifier);
  const routes: Record<string, Handler[]> = {
    'GET /orders': [auth, express.requireScope('orders:read'), ok],
    'POST /orders': [auth, express.requireScope('orders:read', 'orders:write'), ok],
    'GET /audit': [auth, express.requirePermission('orders:write'), ok],
    'GET /admin': [auth, express.requireRole('admin', 'owner'), ok],
    'GET /pro': [auth, express.requireTier('pro', 'team'), ok],
    'GET /no-authenticate': [express.requireScope('orders:read'), ok],
    'GET /unreachable': [express.authenticate(unreachable), ok],
  };
  return createServer((req, res) => {
    const chain = routes[`${req.method} ${req.url}`] ?? [];
    const run = (index: number) => (error?: unknown) => {
      if (error !== undefined) {
        res.statusCode = 500;
        res.end();
      } else if (index < chain.length) void chain[index]!(req, res, run(index + 1));
      else {
        res.statusCode = 404;
        res.end();
      }
    };
    run(0)();
  });
}

test.before(async () => {
  // Accounts here carry tiers and roles as data; second factors are test/e2e/mfa*.test.ts's subject.
  keyhold = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  const { db } = keyhold.keyhold;
  await createResource(db, { identifier: ORDERS, scopes: ['orders:read', 'orders:write'] });
  await createResource(db, { identifier: BILLING, scopes: ['billing:read'] });
  await grantRole(db, { name: 'admin', resource: ORDERS, scopes: ['orders:read', 'orders:write'] });

  const client = await serviceClient(keyhold, 'orders:read billing:read');
  tokens.clientId = client.clientId;
  tokens.clientRead = await clientToken(keyhold, client, ORDERS, 'orders:read');
  tokens.billing = await clientToken(keyhold, client, BILLING, 'billing:read');
  const signedIn = await signInNewUser(keyhold, {
    client: { first_party: true, scope: 'openid orders:read orders:write' },
    user: { roles: ['admin'], tier: 'pro' },
    parameters: { resource: ORDERS, scope: 'openid orders:read orders:write' },
  });
  tokens.user = signedIn.tokens.access_token;
  tokens.userId = signedIn.user.id;

  const verifier = createVerifier({ issuer: keyhold.issuer, audience: ORDERS });
  const unreachable = createVerifier({ issuer: await closedPortIssuer(), audience: ORDERS });
  apps.koa = await listen(createServer(koaApp(verifier, unreachable)));
  apps.express = await listen(expressShapedServer(verifier, unreachable));
});
test.after.always(async () => {
  for (const server of servers) server.close();
  await keyhold?.stop();
});

async function call(base: string, path: string, authorization?: string, method = 'GET') {
  const response = await fetch(`${base}${path}`, { method, headers: authorization ? { authorization } : {} });
  const text = await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate'), contentType: response.headers.get('content-type'), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const bearer = (token: string) => `Bearer ${token}`;
const INVALID_TOKEN = /^Bearer error="invalid_token", error_description="[^"\\]+"$/;

for (const framework of ['koa', 'express'] as const) {
  const base = () => apps[framework];

  test(`${framework}: no bearer token is 401 with a bare Bearer challenge`, async (t: ExecutionContext) => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const response = await call(base(), '/orders', authorization);
      t.is(response.status, 401, String(authorization));
      t.is(response.challenge, 'Bearer');
      t.is(response.body.error, 'unauthorized');
      t.regex(response.contentType ?? '', /^application\/json/);
    }
  });

  test(`${framework}: a bad token is 401 invalid_token`, async (t) => {
    for (const [authorization, description] of [
      ['Bearer not-a-jwt', /well-formed/],
      ['Bearer two words', /well-formed/],
      [bearer(tokens.billing), /not meant for this API/],
      [bearer(`${tokens.clientRead.slice(0, -4)}AAAA`), /signature/],
    ] as const) {
      const response = await call(base(), '/orders', authorization);
      t.is(response.status, 401, authorization.slice(0, 20));
      t.regex(response.challenge ?? '', INVALID_TOKEN);
      t.is(response.body.error, 'invalid_token');
      t.regex(String(response.body.error_description), description);
    }
  });

  test(`${framework}: scopes and permissions: 200 when granted, 403 insufficient_scope otherwise`, async (t) => {
    t.deepEqual((await call(base(), '/orders', bearer(tokens.clientRead))).body, { sub: tokens.clientId });
    // The scheme is case-insensitive (RFC 7235 §2.1).
    t.is((await call(base(), '/orders', `bearer ${tokens.clientRead}`)).status, 200);

    const write = await call(base(), '/orders', bearer(tokens.clientRead), 'POST');
    t.is(write.status, 403);
    t.is(write.challenge, 'Bearer error="insufficient_scope", error_description="scopes orders:read orders:write required", scope="orders:read orders:write"');
    t.deepEqual(write.body, { error: 'insufficient_scope', error_description: 'scopes orders:read orders:write required' });
    t.is((await call(base(), '/orders', bearer(tokens.user), 'POST')).status, 200);

    const audit = await call(base(), '/audit', bearer(tokens.clientRead));
    t.is(audit.status, 403);
    t.is(audit.challenge, 'Bearer error="insufficient_scope", error_description="permission orders:write required"');
    t.deepEqual((await call(base(), '/audit', bearer(tokens.user))).body, { sub: tokens.userId });
  });

  test(`${framework}: roles and tiers: one of the listed is enough, none is 403`, async (t) => {
    const admin = await call(base(), '/admin', bearer(tokens.clientRead));
    t.is(admin.status, 403);
    t.is(admin.body.error_description, 'one of the roles admin owner required');
    t.is((await call(base(), '/admin', bearer(tokens.user))).status, 200);

    const pro = await call(base(), '/pro', bearer(tokens.clientRead));
    t.is(pro.status, 403);
    t.regex(pro.challenge ?? '', /^Bearer error="insufficient_scope", error_description="one of the tiers pro team required"$/);
    t.is((await call(base(), '/pro', bearer(tokens.user))).status, 200);
  });

  test(`${framework}: a requirement without authenticate refuses every caller`, async (t) => {
    const response = await call(base(), '/no-authenticate', bearer(tokens.clientRead));
    t.is(response.status, 401);
    t.is(response.challenge, 'Bearer');
  });

  test(`${framework}: an unreachable issuer is 503, not a token error`, async (t) => {
    const response = await call(base(), '/unreachable', bearer(tokens.clientRead));
    t.is(response.status, 503);
    t.is(response.challenge, null);
    t.is(response.body.error, 'temporarily_unavailable');
  });
}

test('requirements are checked when routes are declared', (t) => {
  for (const make of [koa.requireScope, koa.requireRole, express.requirePermission, express.requireTier]) {
    t.throws(() => make(), { instanceOf: TypeError });
    t.throws(() => make('two words'), { instanceOf: TypeError });
    t.throws(() => make('quo"te'), { instanceOf: TypeError });
  }
});
