// Three Keyhold nodes of one deployment (one database, one Redis prefix, one secret, one
// issuer) behind a round-robin HTTP proxy written here: every request, even the steps of
// one browser's sign-in, lands on the next node. A mixed workload — sign-ins through the
// login pages, refresh rotations, client_credentials (JWT and opaque), introspection — runs
// while a signing key is rotated (the service behind `keyhold keys rotate`): the new key is
// published, then signs on every node. Zero failures: every response is a success, and
// every JWT verifies against the JWKS served by whichever node answers next.
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { createResource } from '#src/services/resources.ts';
import { listKeys, rotateKeys } from '#src/services/signing-keys.ts';
import { Browser } from '../helpers/browser.ts';
import { basicAuth, createUser, login, registerClient, type RegisteredClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://api.example.test';
// Published 4 s before it signs; every node reloads keys each second.
const env = { KEY_ACTIVATION_DELAY: '4', KEY_RELOAD_INTERVAL: '1', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' };

interface Proxy {
  url: string;
  /** Requests each node answered, by node index. */
  served: number[];
  close(): Promise<void>;
}

/** A round-robin reverse proxy: request n goes to node n mod 3, whatever it belongs to. */
async function startProxy(server: Server, backends: () => URL[]): Promise<Proxy> {
  const served: number[] = [];
  let next = 0;
  server.on('request', (incoming, outgoing) => {
    const nodes = backends();
    const index = next++ % nodes.length;
    served[index] = (served[index] ?? 0) + 1;
    const target = nodes[index]!;
    const upstream = forward(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode!, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => {
      outgoing.writeHead(502).end();
    });
    incoming.pipe(upstream);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let proxy: Proxy;
const nodes: TestServer[] = [];

test.before(async () => {
  // The proxy listens first: its address is the issuer every node announces.
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  proxy = await startProxy(listener, () => nodes.map((node) => new URL(node.issuer)));
  const first = await startTestServer({ env: { ...env, ISSUER: proxy.url } });
  nodes.push(first);
  for (let index = 1; index < 3; index += 1) {
    nodes.push(await startTestServer({ databaseUrl: first.databaseUrl, redisPrefix: first.redisPrefix, env: { ...env, ISSUER: proxy.url } }));
  }
});
test.after.always(async () => {
  await proxy?.close();
  for (const node of nodes.reverse()) await node.stop();
});

async function postForm(path: string, parameters: Record<string, string>, client: RegisteredClient) {
  const response = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basicAuth(client) },
    body: new URLSearchParams(parameters),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Reported below as a failure with the status.
  }
  return { status: response.status, json, text };
}

test('three nodes behind a round-robin proxy: a mixed workload through a key rotation, zero failures', async (t) => {
  const [first] = nodes;
  const { db, keyOptions } = first!.keyhold;
  await createResource(db, { identifier: API, scopes: ['read'] });
  const webClient = await registerClient(first!, { first_party: true });
  const serviceClient = await registerClient(first!, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'read' });
  const config = await oidc.discovery(new URL(proxy.url), webClient.clientId, { client_secret: webClient.clientSecret }, oidc.ClientSecretBasic(webClient.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  const endpoints = config.serverMetadata();
  const path = (url: string | undefined) => new URL(url!).pathname;

  const failures: string[] = [];
  const counts: Record<string, number> = { login: 0, refresh: 0, client_credentials: 0, introspection: 0, jwt_verified: 0 };
  const kidsSeen = new Set<string>();

  /** Verifies a JWT against the JWKS of whichever node answers /jwks now. */
  const verify = async (what: string, jwt: string, audience: string) => {
    const jwks = (await (await fetch(endpoints.jwks_uri!)).json()) as JSONWebKeySet;
    try {
      await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: proxy.url, audience });
      kidsSeen.add(decodeProtectedHeader(jwt).kid!);
      counts.jwt_verified! += 1;
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message} (kid ${decodeProtectedHeader(jwt).kid}, published ${jwks.keys.map((key) => key.kid).join(',')})`);
    }
  };
  const expectActive = async (what: string, token: string, client: RegisteredClient) => {
    const introspected = await postForm(path(endpoints.introspection_endpoint), { token }, client);
    counts.introspection! += 1;
    if (introspected.status !== 200 || introspected.json.active !== true) failures.push(`${what} introspection: ${introspected.status} ${introspected.text.slice(0, 200)}`);
  };

  const signInAndRefresh = async () => {
    const user = await createUser(first!);
    let tokens: oidc.TokenEndpointResponse;
    try {
      ({ tokens } = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, new Browser()));
      counts.login! += 1;
    } catch (error) {
      failures.push(`login: ${(error as Error).message.slice(0, 300)}`);
      return;
    }
    await verify('login id_token', tokens.id_token!, webClient.clientId);
    await expectActive('login access token', tokens.access_token, webClient);
    let refreshToken = tokens.refresh_token!;
    for (let rotation = 0; rotation < 2; rotation += 1) {
      const refreshed = await postForm(path(endpoints.token_endpoint), { grant_type: 'refresh_token', refresh_token: refreshToken }, webClient);
      if (refreshed.status !== 200) {
        failures.push(`refresh: ${refreshed.status} ${refreshed.text.slice(0, 200)}`);
        return;
      }
      counts.refresh! += 1;
      refreshToken = refreshed.json.refresh_token as string;
      await verify('refreshed id_token', refreshed.json.id_token as string, webClient.clientId);
      await expectActive('refreshed access token', refreshed.json.access_token as string, webClient);
    }
  };

  const clientCredentials = async () => {
    const jwt = await postForm(path(endpoints.token_endpoint), { grant_type: 'client_credentials', resource: API, scope: 'read' }, serviceClient);
    const opaque = await postForm(path(endpoints.token_endpoint), { grant_type: 'client_credentials' }, serviceClient);
    for (const [what, issued] of [['jwt', jwt], ['opaque', opaque]] as const) {
      if (issued.status !== 200) failures.push(`client_credentials ${what}: ${issued.status} ${issued.text.slice(0, 200)}`);
      else counts.client_credentials! += 1;
    }
    if (jwt.status === 200) await verify('client_credentials JWT', jwt.json.access_token as string, API);
    if (opaque.status === 200) await expectActive('client_credentials opaque token', opaque.json.access_token as string, serviceClient);
  };

  let running = true;
  const worker = async (job: () => Promise<void>) => {
    while (running) {
      try {
        await job();
      } catch (error) {
        failures.push(`unexpected: ${(error as Error).message.slice(0, 300)}`);
      }
    }
  };
  const workers = [worker(signInAndRefresh), worker(signInAndRefresh), worker(clientCredentials), worker(clientCredentials)];

  // The rotation, in the middle of the workload.
  const [original] = await listKeys(db);
  await sleep(2000);
  const [rotated] = await rotateKeys(db, keyOptions);
  t.is(rotated!.stage, 'published');
  // Until every node has reloaded after activation, then a while on the new key.
  await sleep(Math.max(0, Date.parse(rotated!.activatesAt) - Date.now()) + 2000 + 3000);
  running = false;
  await Promise.all(workers);

  t.deepEqual(failures, []);
  t.log(`operations: ${JSON.stringify(counts)}; requests per node: ${proxy.served.join(', ')}`);
  for (const [operation, count] of Object.entries(counts)) t.true(count > 0, `${operation} ran`);
  t.is(proxy.served.length, 3);
  for (const count of proxy.served) t.true(count > 0);
  t.true(kidsSeen.has(original!.kid), 'tokens were signed with the old key before the rotation');
  t.true(kidsSeen.has(rotated!.kid), 'tokens were signed with the new key after it');
  const stages = Object.fromEntries((await listKeys(db)).map((key) => [key.kid, key.stage]));
  t.is(stages[rotated!.kid], 'signing');
  t.is(stages[original!.kid], 'retired');
  // Every node now signs with the new key.
  for (let index = 0; index < 3; index += 1) {
    const issued = await postForm(path(endpoints.token_endpoint), { grant_type: 'client_credentials', resource: API, scope: 'read' }, serviceClient);
    t.is(decodeProtectedHeader(issued.json.access_token as string).kid, rotated!.kid);
  }
});
