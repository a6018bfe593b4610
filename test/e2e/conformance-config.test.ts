// The OpenID Foundation's "Config OP" plan (oidcc-discovery-endpoint-verification): the
// discovery document has the required metadata, names this issuer, points at a reachable
// public JWKS and at endpoints on the issuer's origin, and what it advertises is what the
// server does.
import { createHash } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { atRedirectUri, createUser, REDIRECT_URI, registerClient, type RegisteredClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let metadata: Record<string, unknown>;
let discoveryResponse: Response;

test.before(async () => {
  server = await startTestServer();
  discoveryResponse = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  metadata = (await discoveryResponse.clone().json()) as Record<string, unknown>;
});
test.after.always(async () => {
  await server?.stop();
});

const list = (name: string): string[] => {
  const value = metadata[name];
  if (!Array.isArray(value)) throw new Error(`${name} is not an array: ${JSON.stringify(value)}`);
  return value as string[];
};

type User = Awaited<ReturnType<typeof createUser>>;

async function configFor(client: RegisteredClient, auth: oidc.ClientAuth, extra: Record<string, unknown> = {}): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(server.issuer), client.clientId, { ...(client.clientSecret ? { client_secret: client.clientSecret } : {}), ...extra }, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Sends `url` in a fresh browser and signs in and consents through Keyhold's forms. */
async function runAuthorization(url: URL, user: User): Promise<Page> {
  const browser = new Browser();
  let page = await browser.get(url.toString(), atRedirectUri);
  if (!atRedirectUri(page.url) && page.body.includes('name="password"')) {
    page = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  }
  if (!atRedirectUri(page.url) && /action="[^"]*\/confirm"/.test(page.body)) {
    page = await browser.submit(page, /\/confirm$/, {}, { stopAt: atRedirectUri });
  }
  return page;
}

function reachedClient(t: ExecutionContext, page: Page): URL {
  if (!atRedirectUri(page.url)) {
    t.fail(`did not reach the client (status ${page.status} at ${page.url}):\n${page.body.slice(0, 600)}`);
    throw new Error('did not reach the client');
  }
  return new URL(page.url);
}

// ---------------------------------------------------------------------------------------

test('oidcc-discovery-endpoint-verification: required metadata present', (t) => {
  t.is(discoveryResponse.status, 200);
  t.regex(discoveryResponse.headers.get('content-type') ?? '', /^application\/json/);
  for (const name of [
    'issuer',
    'authorization_endpoint',
    'token_endpoint',
    'jwks_uri',
    'userinfo_endpoint',
    'end_session_endpoint',
    'introspection_endpoint',
    'revocation_endpoint',
  ]) {
    t.is(typeof metadata[name], 'string', `${name} is a string`);
    t.notThrows(() => new URL(metadata[name] as string), `${name} is a URL`);
  }
  for (const name of ['response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported', 'scopes_supported', 'grant_types_supported', 'code_challenge_methods_supported']) {
    t.true(Array.isArray(metadata[name]) && (metadata[name] as unknown[]).length > 0, `${name} is a non-empty array`);
    t.true((metadata[name] as unknown[]).every((value) => typeof value === 'string'), `${name} holds strings`);
  }
  t.true(list('scopes_supported').includes('openid'));
  t.deepEqual([...list('scopes_supported')].sort(), ['address', 'email', 'offline_access', 'openid', 'phone', 'profile', 'roles']);
  t.true(list('response_types_supported').includes('code'));
  t.true(list('subject_types_supported').every((type) => ['public', 'pairwise'].includes(type)));
  t.true(list('id_token_signing_alg_values_supported').includes('RS256'), 'OIDC Discovery: RS256 MUST be included');
  t.deepEqual(list('code_challenge_methods_supported'), ['S256']);
  for (const grant of ['authorization_code', 'refresh_token', 'client_credentials']) t.true(list('grant_types_supported').includes(grant), `grant type ${grant}`);
  t.true(metadata.claims_parameter_supported);
  t.deepEqual(list('acr_values_supported'), ['urn:keyhold:acr:password', 'urn:keyhold:acr:mfa', 'urn:keyhold:acr:phr']);
  for (const claim of ['sub', 'email', 'email_verified', 'name']) t.true(list('claims_supported').includes(claim), `claim ${claim}`);
});

test('oidcc-discovery-endpoint-verification: issuer equals the URL base the document was fetched from', async (t) => {
  t.is(metadata.issuer, server.issuer);
  t.is(`${metadata.issuer as string}/.well-known/openid-configuration`, discoveryResponse.url);
  const issuer = new URL(metadata.issuer as string);
  t.false((metadata.issuer as string).endsWith('/'), 'no trailing slash');
  t.is(issuer.search, '');
  t.is(issuer.hash, '');
  // openid-client checks the same (issuer === the discovery base) and must accept it.
  const client = await registerClient(server);
  const config = await configFor(client, oidc.ClientSecretBasic(client.clientSecret));
  t.is(config.serverMetadata().issuer, server.issuer);
  // The RFC 8414 location answers the same document.
  const oauthMetadata = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
  if (oauthMetadata.status === 200) t.is(((await oauthMetadata.json()) as { issuer: string }).issuer, server.issuer);
  else t.is(oauthMetadata.status, 404);
});

test('oidcc-discovery-endpoint-verification: jwks_uri reachable; public keys with kid, alg, use and no private members', async (t) => {
  const response = await fetch(metadata.jwks_uri as string);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^application\/(jwk-set\+)?json/);
  const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
  t.true(Array.isArray(jwks.keys) && jwks.keys.length > 0);
  const kids = new Set<string>();
  for (const key of jwks.keys) {
    t.is(typeof key.kid, 'string', 'kid');
    t.false(kids.has(key.kid as string), 'kids are unique');
    kids.add(key.kid as string);
    t.is(typeof key.alg, 'string', 'alg');
    t.is(key.use, 'sig', 'use');
    t.true(['RSA', 'EC', 'OKP'].includes(key.kty as string), 'kty');
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) t.false(member in key, `${key.kid as string} has no private member ${member}`);
  }
  // Every ID token signing algorithm advertised has a published key.
  for (const alg of list('id_token_signing_alg_values_supported')) {
    t.true(
      jwks.keys.some((key) => key.alg === alg || (alg.startsWith('PS') && key.kty === 'RSA' && !key.alg)),
      `a key for ${alg}`,
    );
  }
});

test('oidcc-discovery-endpoint-verification: every advertised endpoint is on the issuer origin', (t) => {
  const issuer = new URL(metadata.issuer as string);
  const endpoints = Object.entries(metadata).filter(([name, value]) => typeof value === 'string' && (name.endsWith('_endpoint') || name === 'jwks_uri'));
  t.true(endpoints.length >= 8, `found ${endpoints.map(([name]) => name).join(', ')}`);
  for (const [name, value] of endpoints) {
    const url = new URL(value as string);
    t.is(url.origin, issuer.origin, `${name} is on the issuer origin`);
    t.true(url.pathname.startsWith(issuer.pathname === '/' ? '/' : `${issuer.pathname}/`), `${name} is under the issuer path`);
    t.is(url.hash, '', `${name} has no fragment`);
  }
});

test('oidcc-discovery-endpoint-verification: advertised endpoints answer', async (t) => {
  // Without credentials each protected endpoint refuses in its own protocol's terms.
  const userinfo = await fetch(metadata.userinfo_endpoint as string);
  t.is(userinfo.status, 401);
  t.regex(userinfo.headers.get('www-authenticate') ?? '', /^Bearer/i);
  for (const name of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
    const response = await fetch(metadata[name] as string, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'x', grant_type: 'client_credentials', client_id: 'nobody' }),
    });
    t.is(response.status, 401, `${name} asks for client authentication`);
    t.is(((await response.json()) as { error: string }).error, 'invalid_client', name);
  }
  // The end-session endpoint without parameters shows a logout page.
  const endSession = await new Browser().get(metadata.end_session_endpoint as string);
  t.is(endSession.status, 200);
  t.regex(endSession.headers.get('content-type') ?? '', /text\/html/);
});

test('oidcc-discovery-endpoint-verification: every advertised response_type works', async (t) => {
  const user = await createUser(server);
  const expected: Record<string, { in: 'query' | 'fragment'; present: string[]; absent: string[] }> = {
    code: { in: 'query', present: ['code', 'state'], absent: ['id_token', 'access_token'] },
    'code id_token': { in: 'fragment', present: ['code', 'id_token', 'state'], absent: ['access_token'] },
    id_token: { in: 'fragment', present: ['id_token', 'state'], absent: ['code', 'access_token'] },
    none: { in: 'query', present: ['state'], absent: ['code', 'id_token', 'access_token'] },
  };
  t.true(list('response_types_supported').includes('code'));
  for (const responseType of list('response_types_supported')) {
    const expectation = expected[responseType];
    if (!expectation) {
      t.fail(`response type ${responseType} is advertised but this test does not know it`);
      continue;
    }
    const grantTypes = responseType.split(' ').includes('code') ? ['authorization_code'] : [];
    if (responseType.split(' ').includes('id_token')) grantTypes.push('implicit');
    const client = await registerClient(server, { response_types: [responseType], grant_types: grantTypes });
    const config = await configFor(client, oidc.ClientSecretBasic(client.clientSecret));
    const state = oidc.randomState();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      response_type: responseType,
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state,
      nonce: oidc.randomNonce(),
      ...(responseType.includes('code') ? { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' } : {}),
    });
    const callback = reachedClient(t, await runAuthorization(url, user));
    const params = new URLSearchParams(expectation.in === 'query' ? callback.search : callback.hash.slice(1));
    t.is(params.get('error'), null, `${responseType}: ${params.get('error_description')}`);
    t.is(params.get('state'), state, responseType);
    for (const name of expectation.present) t.true(params.has(name), `${responseType} returns ${name}`);
    for (const name of expectation.absent) t.false(params.has(name), `${responseType} does not return ${name}`);
  }
});

test('oidcc-discovery-endpoint-verification: every advertised response_mode works', async (t) => {
  const user = await createUser(server);
  const client = await registerClient(server);
  const config = await configFor(client, oidc.ClientSecretBasic(client.clientSecret));
  for (const mode of list('response_modes_supported')) {
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state,
      response_mode: mode,
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await runAuthorization(url, user);
    let params: URLSearchParams;
    if (mode === 'form_post') {
      // An auto-submitting form to the redirect_uri, whose inline script the CSP allows.
      t.is(page.status, 200);
      const form = parseForms(page.body, page.url).find((candidate) => candidate.action === REDIRECT_URI);
      t.truthy(form, 'form_post page posts to the redirect_uri');
      t.is(form?.method, 'post');
      params = new URLSearchParams((form?.fields ?? []).map((field) => [field.name, field.value]));
      const script = /<script>([\s\S]*?)<\/script>/.exec(page.body)?.[1] ?? '';
      const digest = createHash('sha256').update(script).digest('base64');
      t.true((page.headers.get('content-security-policy') ?? '').includes(`'sha256-${digest}'`), 'the CSP allows the form_post script');
    } else {
      const callback = reachedClient(t, page);
      params = new URLSearchParams(mode === 'fragment' ? callback.hash.slice(1) : callback.search);
    }
    t.is(params.get('state'), state, mode);
    t.truthy(params.get('code'), `${mode} carries the code`);
  }
});

test('oidcc-discovery-endpoint-verification: code_challenge_method plain is refused as advertised', async (t) => {
  const client = await registerClient(server, { token_endpoint_auth_method: 'none' });
  const config = await configFor(client, oidc.None());
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state,
    code_challenge: oidc.randomPKCECodeVerifier(),
    code_challenge_method: 'plain',
  });
  const page = await new Browser().get(url.toString(), atRedirectUri);
  const params = new URL(page.url).searchParams;
  t.true(atRedirectUri(page.url), 'the error goes back to the client');
  t.is(params.get('error'), 'invalid_request');
  t.is(params.get('code'), null);
});

test('oidcc-discovery-endpoint-verification: advertised grant types and token endpoint auth methods work', async (t) => {
  t.true(list('grant_types_supported').includes('client_credentials'));
  const methods = list('token_endpoint_auth_methods_supported');
  for (const method of ['client_secret_basic', 'client_secret_post', 'none']) t.true(methods.includes(method), method);

  const base = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const basic = await registerClient(server, { ...base, token_endpoint_auth_method: 'client_secret_basic' });
  const post = await registerClient(server, { ...base, token_endpoint_auth_method: 'client_secret_post' });
  const cases: Array<[string, oidc.Configuration]> = [
    ['client_secret_basic', await configFor(basic, oidc.ClientSecretBasic(basic.clientSecret))],
    ['client_secret_post', await configFor(post, oidc.ClientSecretPost(post.clientSecret))],
  ];
  if (methods.includes('client_secret_jwt')) {
    const jwtClient = await registerClient(server, { ...base, token_endpoint_auth_method: 'client_secret_jwt' });
    cases.push(['client_secret_jwt', await configFor(jwtClient, oidc.ClientSecretJwt(jwtClient.clientSecret))]);
  }
  if (methods.includes('private_key_jwt')) {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const pkClient = await registerClient(server, {
      ...base,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: 'client-key' }] },
    });
    cases.push(['private_key_jwt', await configFor(pkClient, oidc.PrivateKeyJwt({ key: privateKey, kid: 'client-key' }))]);
  }
  for (const [method, config] of cases) {
    const tokens = await oidc.clientCredentialsGrant(config);
    t.truthy(tokens.access_token, `${method}: client_credentials issues an access token`);
    t.is(tokens.token_type.toLowerCase(), 'bearer', method);
    t.is(tokens.refresh_token, undefined, `${method}: no refresh token for client_credentials`);
  }
  if (metadata.dpop_signing_alg_values_supported) {
    // DPoP is advertised: a DPoP-bound token is issued when a proof is sent.
    const dpop = oidc.getDPoPHandle(cases[0]![1], await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(cases[0]![1], undefined, { DPoP: dpop });
    t.is(tokens.token_type.toLowerCase(), 'dpop');
  }
});

test('oidcc-discovery-endpoint-verification: subject type, signing alg and acr in tokens match the metadata', async (t) => {
  const user = await createUser(server);
  const subs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const client = await registerClient(server);
    const config = await configFor(client, oidc.ClientSecretBasic(client.clientSecret));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state,
      // acr is optional in an ID token unless asked for.
      acr_values: list('acr_values_supported')[0]!,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = reachedClient(t, await runAuthorization(url, user));
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as { alg: string };
    t.true(list('id_token_signing_alg_values_supported').includes(header.alg), `ID token alg ${header.alg} is advertised`);
    const claims = tokens.claims()!;
    t.true(list('acr_values_supported').includes(claims.acr as string), `acr ${String(claims.acr)} is advertised`);
    for (const claim of Object.keys(claims)) {
      if (['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'at_hash', 'c_hash', 'azp', 'jti', 'sid', 'acr', 'amr', 'auth_time'].includes(claim)) continue;
      t.true(list('claims_supported').includes(claim), `ID token claim ${claim} is advertised`);
    }
    subs.push(claims.sub);
  }
  if (list('subject_types_supported').length === 1 && list('subject_types_supported')[0] === 'public') {
    t.is(subs[0], subs[1], 'public subject: the same sub for every client');
    t.is(subs[0], user.id);
  }
});

test('oidcc-discovery-endpoint-verification: pushed authorization requests work as advertised', async (t) => {
  if (!metadata.pushed_authorization_request_endpoint) {
    t.is(metadata.pushed_authorization_request_endpoint, undefined);
    return;
  }
  const user = await createUser(server);
  const client = await registerClient(server);
  const config = await configFor(client, oidc.ClientSecretBasic(client.clientSecret));
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  t.regex(url.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/);
  const callback = reachedClient(t, await runAuthorization(url, user));
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  t.is(tokens.claims()!.sub, user.id);
});
